export * from "./SnapshotSource.ts"
export * from "./TmdbHttpSource.ts"
