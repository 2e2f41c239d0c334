export * from "./SnapshotSource.ts"
