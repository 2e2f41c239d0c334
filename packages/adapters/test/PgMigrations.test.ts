import { assert, describe, it } from "@effect/vitest"
import { MIGRATIONS_TABLE, PgDatabase, runPgMigrations } from "@tmdb-yearly/adapters"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { TestDatabase, testDatabaseLayer, withClient } from "../../../testing/postgres.ts"

const EXPECTED_VERSIONS = [
  { migration_id: 1, name: "create_deliveries" },
  { migration_id: 2, name: "create_job_runs" }
]

const recordedVersions = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ migration_id: number; name: string }>`
    SELECT migration_id, name FROM ${sql(MIGRATIONS_TABLE)} ORDER BY migration_id`
})

const userRelations = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ table_name: string; table_type: string }>`
    SELECT table_name, table_type FROM information_schema.tables
    WHERE table_schema = 'public' ORDER BY table_name`
})

describe("PgMigrations", () => {
  it.live("second run applies nothing", () =>
    Effect.gen(function* () {
      const database = yield* TestDatabase
      const [first, second] = yield* withClient(
        database.url,
        Effect.all([runPgMigrations, runPgMigrations], { concurrency: 1 })
      )
      assert.deepStrictEqual(first, [
        [1, "create_deliveries"],
        [2, "create_job_runs"]
      ])
      assert.deepStrictEqual(second, [])
      assert.deepStrictEqual(yield* withClient(database.url, recordedVersions), EXPECTED_VERSIONS)
    }).pipe(Effect.provide(testDatabaseLayer("migrations_twice")))
  )

  it.live("creates the tables and the view", () =>
    Effect.gen(function* () {
      const database = yield* TestDatabase
      yield* withClient(database.url, runPgMigrations)
      assert.deepStrictEqual(yield* withClient(database.url, userRelations), [
        { table_name: MIGRATIONS_TABLE, table_type: "BASE TABLE" },
        { table_name: "job_runs", table_type: "BASE TABLE" },
        { table_name: "latest_yearly_ratings", table_type: "VIEW" },
        { table_name: "webhook_deliveries", table_type: "BASE TABLE" },
        { table_name: "yearly_ratings", table_type: "BASE TABLE" }
      ])
    }).pipe(Effect.provide(testDatabaseLayer("migrations_tables")))
  )

  it.live("database layer restarts on a migrated database", () =>
    Effect.gen(function* () {
      const database = yield* TestDatabase
      const startDatabase = Layer.build(PgDatabase.layer({ url: database.url })).pipe(Effect.scoped)
      yield* startDatabase
      yield* startDatabase
      assert.deepStrictEqual(yield* withClient(database.url, recordedVersions), EXPECTED_VERSIONS)
    }).pipe(Effect.provide(testDatabaseLayer("migrations_restart")))
  )

  it.live("concurrent starts apply each version once", () =>
    Effect.gen(function* () {
      const database = yield* TestDatabase
      const applied = yield* Effect.all(
        Array.from({ length: 4 }, () => withClient(database.url, runPgMigrations)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(applied.flat().length, 2)
      assert.deepStrictEqual(yield* withClient(database.url, recordedVersions), EXPECTED_VERSIONS)
    }).pipe(Effect.provide(testDatabaseLayer("migrations_concurrent")))
  )
})
