export * from "./SnapshotSource.ts"
export * from "./TmdbHttpSource.ts"
export * from "./PgDatabase.ts"
export * from "./PgMigrations.ts"
