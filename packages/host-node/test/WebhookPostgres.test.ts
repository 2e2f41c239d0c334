import { assert, layer } from "@effect/vitest"
import { PgDatabase, PgRatingsRepository, PgRunLog } from "@tmdb-yearly/adapters"
import { MAX_WEBHOOK_BODY_BYTES } from "@tmdb-yearly/core"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { getJson, postWebhook, TEST_WEBHOOK_SECRET } from "../../../testing/webhookClient.ts"
import { startEmbeddedPostgres } from "../src/EmbeddedPostgres.ts"
import { Readiness } from "../src/Readiness.ts"
import { serverBaseUrl, serverLayer } from "../src/Server.ts"
import { WebhookSecret } from "../src/WebhookSecret.ts"

// The webhook on PostgreSQL, one status per test. The database is an embedded server of its own, so that the
// last tests can stop it. Tests in this block run in order and share the server and the database.

const TABLE = [
  { year: "1990", vote_average: "8.1", quantity: "10" },
  { year: "1994", vote_average: "8.5", quantity: "3" }
]

/** The server under test and a way to stop its database. */
class Harness extends Context.Service<
  Harness,
  {
    readonly webhookUrl: string
    readonly baseUrl: string
    readonly stopDatabase: Effect.Effect<void>
    /** Counts the rows of `webhook_deliveries` and `yearly_ratings`. */
    readonly counts: Effect.Effect<{ readonly deliveries: number; readonly ratings: number }>
  }
>()("test/Harness") {}

const HarnessLive = Layer.effect(
  Harness,
  Effect.gen(function* () {
    const dataDir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "tmdb-yearly-webhook-pg-"))),
      (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
    )
    const postgres = yield* Effect.acquireRelease(
      Effect.promise(() => startEmbeddedPostgres({ dataDir })),
      (server) => Effect.promise(() => server.stop())
    )
    const database = PgDatabase.layer({ url: Redacted.make(postgres.url), maxConnections: 2 })
    const stores = Layer.mergeAll(PgRatingsRepository.layer, PgRunLog.layer, Readiness.layerSql).pipe(
      Layer.provideMerge(database)
    )
    const context = yield* Layer.build(
      serverLayer({
        port: 0,
        host: "127.0.0.1",
        gracefulShutdownTimeout: "1 second",
        adminToken: Option.none(),
        voteAverageDecimals: 1
      }).pipe(
        Layer.provideMerge(stores),
        Layer.provide(WebhookSecret.layer(Option.some(Redacted.make(TEST_WEBHOOK_SECRET))))
      )
    ).pipe(Effect.orDie)
    const baseUrl = yield* serverBaseUrl.pipe(Effect.provideContext(context))
    const sql = Context.get(context, SqlClient.SqlClient)
    const counts = Effect.gen(function* () {
      const rows = yield* sql<{ deliveries: number; ratings: number }>`
        SELECT (SELECT count(*)::int FROM webhook_deliveries) AS deliveries,
               (SELECT count(*)::int FROM yearly_ratings) AS ratings`
      return rows[0]!
    }).pipe(Effect.orDie)
    return Harness.of({
      webhookUrl: `${baseUrl}/webhooks/yearly-ratings`,
      baseUrl,
      stopDatabase: Effect.promise(() => postgres.stop()),
      counts
    })
  })
)

layer(HarnessLive, { timeout: 60_000, excludeTestServices: true })("webhook on PostgreSQL", (it) => {
  it.effect("201 stores every row", () =>
    Effect.gen(function* () {
      const harness = yield* Harness
      const response = yield* postWebhook({ url: harness.webhookUrl, id: "msg_pg_1", body: JSON.stringify(TABLE) })
      assert.strictEqual(response.status, 201)
      assert.deepStrictEqual(response.body, { delivery_id: "msg_pg_1", stored: true })
      assert.deepStrictEqual(yield* harness.counts, { deliveries: 1, ratings: 2 })
    })
  )

  it.effect("200 on replay, no new rows", () =>
    Effect.gen(function* () {
      const harness = yield* Harness
      const response = yield* postWebhook({ url: harness.webhookUrl, id: "msg_pg_1", body: JSON.stringify(TABLE) })
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(response.body, { delivery_id: "msg_pg_1", stored: false })
      assert.deepStrictEqual(yield* harness.counts, { deliveries: 1, ratings: 2 })
    })
  )

  it.effect("415 for text/plain", () =>
    Effect.gen(function* () {
      const harness = yield* Harness
      const response = yield* postWebhook({
        url: harness.webhookUrl,
        body: JSON.stringify(TABLE),
        contentType: "text/plain"
      })
      assert.strictEqual(response.status, 415)
      assert.deepStrictEqual(yield* harness.counts, { deliveries: 1, ratings: 2 })
    })
  )

  it.effect("401 for a stale timestamp", () =>
    Effect.gen(function* () {
      const harness = yield* Harness
      const response = yield* postWebhook({
        url: harness.webhookUrl,
        body: JSON.stringify(TABLE),
        timestamp: Math.floor(Date.now() / 1000) - 6 * 60
      })
      assert.strictEqual(response.status, 401)
      assert.strictEqual((response.body as { reason: string }).reason, "stale-timestamp")
      assert.deepStrictEqual(yield* harness.counts, { deliveries: 1, ratings: 2 })
    })
  )

  it.effect("400 names the bad field", () =>
    Effect.gen(function* () {
      const harness = yield* Harness
      const body = JSON.stringify([TABLE[0], { year: "1994", vote_average: "8.5", quantity: "-3" }])
      const response = yield* postWebhook({ url: harness.webhookUrl, body })
      assert.strictEqual(response.status, 400)
      const problem = response.body as { path: string; value: string }
      assert.strictEqual(problem.path, "[1].quantity")
      assert.strictEqual(problem.value, '"-3"')
      assert.deepStrictEqual(yield* harness.counts, { deliveries: 1, ratings: 2 })
    })
  )

  it.effect("ready while the database runs", () =>
    Effect.gen(function* () {
      const harness = yield* Harness
      const ready = yield* getJson(`${harness.baseUrl}/health/ready`)
      assert.strictEqual(ready.status, 200)
    })
  )

  // From here on the database is stopped.

  it.effect("503 with Retry-After when the database is stopped", () =>
    Effect.gen(function* () {
      const harness = yield* Harness
      yield* harness.stopDatabase
      const response = yield* postWebhook({ url: harness.webhookUrl, id: "msg_pg_2", body: JSON.stringify(TABLE) })
      assert.strictEqual(response.status, 503)
      assert.strictEqual(response.headers.get("retry-after"), "5")
      const ready = yield* getJson(`${harness.baseUrl}/health/ready`)
      assert.strictEqual(ready.status, 503)
    })
  )

  it.effect("413 for 64 KiB + 1 bytes without the database", () =>
    Effect.gen(function* () {
      const harness = yield* Harness
      // The database is stopped, so any database access would turn this into a 503.
      const body = new Uint8Array(MAX_WEBHOOK_BODY_BYTES + 1).fill(0x20)
      const response = yield* postWebhook({ url: harness.webhookUrl, body })
      assert.strictEqual(response.status, 413)
    })
  )
})
