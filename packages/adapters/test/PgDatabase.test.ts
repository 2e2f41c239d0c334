import { assert, describe, it } from "@effect/vitest"
import { PgDatabase } from "@tmdb-yearly/adapters"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { createServer } from "node:net"
import { type CapturedLog, captureLogs } from "../../../testing/LogCapture.ts"
import { TestDatabase, testDatabaseLayer } from "../../../testing/postgres.ts"

/** A TCP port on 127.0.0.1 that nothing listens on once this returns. */
const closedPort = Effect.promise(
  () =>
    new Promise<number>((resolve) => {
      const probe = createServer()
      probe.listen(0, "127.0.0.1", () => {
        const address = probe.address()
        probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
      })
    })
)

describe("PgDatabase", () => {
  it.live("layer runs queries on a migrated database", () =>
    Effect.gen(function* () {
      const database = yield* TestDatabase
      const rows = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ deliveries: number; runs: number }>`
          SELECT (SELECT count(*)::int FROM webhook_deliveries) AS deliveries,
                 (SELECT count(*)::int FROM job_runs) AS runs`
      }).pipe(Effect.provide(PgDatabase.layer({ url: database.url })))
      assert.deepStrictEqual(rows, [{ deliveries: 0, runs: 0 }])
    }).pipe(Effect.provide(testDatabaseLayer("database_layer")))
  )

  it.live("unreachable server fails after 5 retries", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const lines: Array<CapturedLog> = []
      const url = Redacted.make(`postgres://postgres:secret-password@127.0.0.1:${port}/postgres`)
      const error = yield* Layer.build(PgDatabase.layer({ url })).pipe(
        Effect.scoped,
        Effect.provide(captureLogs(lines)),
        Effect.flip
      )
      assert.strictEqual(error._tag, "SqlError")
      assert.strictEqual(error._tag === "SqlError" ? error.reason._tag : error._tag, "ConnectionError")
      assert.notInclude(error.message, "secret-password")
      const warnings = lines.filter((line) => line.level === "Warn")
      assert.deepStrictEqual(
        warnings.map((line) => [line.message, line.annotations["attempt"]]),
        [2, 3, 4, 5, 6].map((attempt) => ["Database not reachable at start-up, retrying", attempt])
      )
      for (const line of warnings) {
        assert.strictEqual(line.annotations["error"], "ConnectionError: PgConnection: Failed to connect (ECONNREFUSED)")
      }
    })
  )
})
