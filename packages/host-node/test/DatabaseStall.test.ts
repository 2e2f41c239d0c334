import { assert, layer } from "@effect/vitest"
import { PgDatabase, PgRatingsRepository, PgRunLog } from "@tmdb-yearly/adapters"
import { Effect, Layer, Option, Redacted } from "effect"
import { TestDatabase, testDatabaseLayer } from "../../../testing/postgres.ts"
import { stallingProxy } from "../../../testing/stallingProxy.ts"
import { TEST_WEBHOOK_SECRET } from "../../../testing/webhookClient.ts"
import { Readiness } from "../src/Readiness.ts"
import { serverBaseUrl, serverLayer } from "../src/Server.ts"
import { WebhookSecret } from "../src/WebhookSecret.ts"

/** Upper bound of a response while the database hangs: the 3 s read timeout plus a margin for a slow machine. */
const MAX_RESPONSE_MILLIS = 6_000

/** Sends a GET and returns the status, the `Retry-After` header and the time to the response in milliseconds. */
const timedGet = (url: string) =>
  Effect.promise(async () => {
    const started = performance.now()
    const response = await fetch(url)
    await response.arrayBuffer()
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      millis: performance.now() - started
    }
  })

layer(testDatabaseLayer("stall"), { timeout: 60_000, excludeTestServices: true })("hung database", (it) => {
  it.effect("reads get 503 within seconds", () =>
    Effect.gen(function* () {
      const database = yield* TestDatabase
      const proxy = yield* stallingProxy(Number(new URL(Redacted.value(database.url)).port))
      const proxiedUrl = new URL(Redacted.value(database.url))
      proxiedUrl.port = String(proxy.port)

      const stores = Layer.mergeAll(PgRatingsRepository.layer, PgRunLog.layer, Readiness.layerSql).pipe(
        Layer.provide(PgDatabase.layer({ url: Redacted.make(proxiedUrl.toString()) }))
      )
      const context = yield* Layer.build(
        serverLayer({
          port: 0,
          host: "127.0.0.1",
          gracefulShutdownTimeout: "1 second",
          adminToken: Option.none(),
          voteAverageDecimals: 1
        }).pipe(Layer.provide([stores, WebhookSecret.layer(Option.some(Redacted.make(TEST_WEBHOOK_SECRET)))]))
      ).pipe(Effect.orDie)
      const base = yield* serverBaseUrl.pipe(Effect.provideContext(context))

      assert.strictEqual((yield* timedGet(`${base}/health/ready`)).status, 200)
      assert.strictEqual((yield* timedGet(`${base}/yearly-ratings`)).status, 404)

      yield* proxy.stall
      const paths = ["/health/ready", "/yearly-ratings", "/yearly-ratings/1994", "/runs", "/"]
      const responses = yield* Effect.all(
        paths.map((path) => timedGet(`${base}${path}`)),
        { concurrency: "unbounded" }
      )
      paths.forEach((path, index) => {
        const response = responses[index]
        assert.strictEqual(response?.status, 503, path)
        assert.strictEqual(response?.retryAfter, "5", path)
        assert.isBelow(response?.millis ?? Infinity, MAX_RESPONSE_MILLIS, path)
      })
    })
  )
})
