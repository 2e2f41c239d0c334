import { assert, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { fakeTmdbScoped } from "../../../testing/FakeTmdb.ts"
import { awaitExit, freePort, spawnCli } from "../../../testing/hostProcess.ts"
import { TestDatabase, testDatabaseLayer, withClient } from "../../../testing/postgres.ts"
import { PAGES_1_TO_10_TABLE } from "../../../testing/goldenTable.ts"

const query = <A extends object>(url: Redacted.Redacted<string>, statement: string) =>
  withClient(
    url,
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(statement))
  ).pipe(Effect.orDie)

/** Waits until `condition` holds, checking every 50 ms, and fails the test after `timeoutMillis`. */
const waitUntil = (condition: () => boolean, timeoutMillis: number, what: string) =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMillis
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })

/**
 * Starts the host on a fake TMDB whose page 5 responds after `pageDelayMillis`, and waits until page 5 is
 * requested, so that a run is in progress when the test sends a signal.
 */
const startHostInRun = (databaseUrl: Redacted.Redacted<string>, pageDelayMillis: number) =>
  Effect.gen(function* () {
    const fake = yield* fakeTmdbScoped()
    fake.setFault(5, { _tag: "Delay", millis: pageDelayMillis })
    const port = yield* freePort
    const host = yield* spawnCli(["start"], {
      PORT: String(port),
      DATABASE_URL: Redacted.value(databaseUrl),
      TMDB_BASE_URL: fake.url,
      TMDB_API_KEY: "shutdowntestkey",
      LOG_FORMAT: "json"
    })
    yield* waitUntil(() => fake.requestsFor(5).length > 0, 30_000, "page 5 is requested")
    return host
  })

layer(testDatabaseLayer("shutdown"), { timeout: 60_000, excludeTestServices: true })("shutdown", (it) => {
  it.effect(
    "SIGTERM during a run exits 0, no partial delivery",
    () =>
      Effect.gen(function* () {
        const database = yield* TestDatabase
        // Page 5 responds after 2 s, so that the run is in progress when SIGTERM arrives.
        const host = yield* startHostInRun(database.url, 2_000)
        host.child.kill("SIGTERM")
        const exit = yield* awaitExit(host, 45_000)
        assert.strictEqual(exit.code, 0, host.stdout())

        // The run had its grace period, so it finished and recorded its delivery in full.
        const runs = yield* query<{ outcome: string; delivery_id: string | null }>(
          database.url,
          "SELECT outcome, delivery_id FROM job_runs"
        )
        assert.strictEqual(runs.length, 1)
        assert.strictEqual(runs[0]?.outcome, "succeeded")
        const deliveries = yield* query<{ id: string; row_count: number; stored_rows: number }>(
          database.url,
          `SELECT d.id, d.row_count, (SELECT count(*)::int FROM yearly_ratings r WHERE r.delivery_id = d.id) AS stored_rows
           FROM webhook_deliveries d`
        )
        assert.strictEqual(deliveries.length, 1)
        assert.strictEqual(deliveries[0]?.id, runs[0]?.delivery_id)
        assert.strictEqual(deliveries[0]?.row_count, PAGES_1_TO_10_TABLE.length)
        assert.strictEqual(deliveries[0]?.stored_rows, PAGES_1_TO_10_TABLE.length)
        assert.include(host.stdout(), "waiting for the run in progress to finish")
      }),
    90_000
  )
})

layer(testDatabaseLayer("shutdown_twice"), { timeout: 60_000, excludeTestServices: true })("second SIGINT", (it) => {
  it.effect(
    "second SIGINT exits 130 at once",
    () =>
      Effect.gen(function* () {
        const database = yield* TestDatabase
        // Page 5 responds after 20 s, so that the run is still in progress during the 30 s grace period.
        const host = yield* startHostInRun(database.url, 20_000)
        host.child.kill("SIGINT")
        yield* waitUntil(
          () => host.stdout().includes("waiting for the run in progress to finish"),
          10_000,
          "the shutdown waits for the run"
        )
        const secondSignalAt = performance.now()
        host.child.kill("SIGINT")
        const exit = yield* awaitExit(host, 10_000)
        assert.strictEqual(exit.code, 130, host.stderr())
        assert.include(host.stderr(), "Second interrupt: exiting at once")
        // The grace period would have lasted until 30 s after the first signal.
        assert.isBelow(performance.now() - secondSignalAt, 5_000)
      }),
    90_000
  )
})
