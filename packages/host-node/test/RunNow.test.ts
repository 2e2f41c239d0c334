import { assert, describe, it } from "@effect/vitest"
import { RatingsPublisher, RatingsRepository, RunLog, StorageError, TopRatedSource } from "@tmdb-yearly/core"
import { DateTime, Duration, Effect, Layer, Option, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { recordedPages } from "../../../testing/topRatedFixture.ts"
import { TEST_WEBHOOK_SECRET } from "../../../testing/webhookClient.ts"
import { Readiness } from "../src/Readiness.ts"
import { Scheduler } from "../src/Scheduler.ts"
import { serverBaseUrl, serverLayer } from "../src/Server.ts"
import { WebhookSecret } from "../src/WebhookSecret.ts"

// The scheduler runs on the test clock, while the requests go over real loopback HTTP. Each page takes one
// minute of test-clock time and four pages are read at once, so a run of pages 1 to 10 lasts 4 minutes.

const MINUTE = 60_000
const ADMIN_TOKEN = "run-now-test-token"

const slowSource = Layer.sync(TopRatedSource, () => {
  const memory = TopRatedSource.makeMemory(recordedPages(1, 10))
  return TopRatedSource.of({ readPage: (page) => Effect.sleep("1 minute").pipe(Effect.andThen(memory.readPage(page))) })
})

/** Starts the server and the scheduler, whose first run starts at once, and returns the server's base URL. */
const startHost = (adminToken: Option.Option<string>, readiness = Readiness.layerMemory) =>
  Effect.gen(function* () {
    const stores = Layer.mergeAll(
      RatingsRepository.layerMemory,
      RunLog.layerMemory,
      readiness,
      RatingsPublisher.layerMemory,
      WebhookSecret.layer(Option.some(Redacted.make(TEST_WEBHOOK_SECRET)))
    )
    const server = serverLayer({
      port: 0,
      host: "127.0.0.1",
      gracefulShutdownTimeout: "1 second",
      adminToken: Option.map(adminToken, Redacted.make),
      voteAverageDecimals: 1
    })
    const scheduler = Scheduler.layer({
      interval: Duration.minutes(30),
      cycle: { pages: 10, concurrency: 4, decimals: 1 }
    }).pipe(Layer.provide(slowSource))
    const context = yield* Layer.build(scheduler.pipe(Layer.provideMerge(server), Layer.provideMerge(stores)))
    return yield* serverBaseUrl.pipe(Effect.provideContext(context))
  })

interface RunSummary {
  readonly run_id: string
  readonly started_at: string
  readonly outcome: string
}

/** Sends `POST /runs`, with `Authorization: Bearer <token>` when a token is given, and any extra headers. */
const postRun = (base: string, token?: string, extraHeaders: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
    Object.assign(headers, extraHeaders)
    const response = await fetch(`${base}/runs`, { method: "POST", headers })
    const body = (await response.json()) as Record<string, unknown>
    return { status: response.status, headers: response.headers, body }
  })

const listRuns = (base: string) =>
  Effect.promise(async () => (await (await fetch(`${base}/runs`)).json()) as ReadonlyArray<RunSummary>)

const minuteOf = (iso: string): number => DateTime.toEpochMillis(DateTime.makeUnsafe(iso)) / MINUTE

describe("POST /runs", () => {
  it.effect("401 without the admin token", () =>
    Effect.gen(function* () {
      const base = yield* startHost(Option.some(ADMIN_TOKEN))
      yield* TestClock.adjust("4 minutes")

      const missing = yield* postRun(base)
      assert.strictEqual(missing.status, 401)
      assert.strictEqual(missing.headers.get("www-authenticate"), 'Bearer realm="tmdb-yearly"')
      assert.strictEqual(missing.body["type"], "urn:tmdb-yearly:problem:admin-token-rejected")

      const wrong = yield* postRun(base, "not-the-token")
      assert.strictEqual(wrong.status, 401)
      assert.strictEqual(wrong.headers.get("www-authenticate"), 'Bearer realm="tmdb-yearly"')

      const lowercaseScheme = yield* Effect.promise(() =>
        fetch(`${base}/runs`, { method: "POST", headers: { authorization: `bearer ${ADMIN_TOKEN}` } })
      )
      assert.strictEqual(lowercaseScheme.status, 202)
      yield* TestClock.adjust("4 minutes")

      const runs = yield* listRuns(base)
      assert.strictEqual(runs.length, 2, "only the accepted request started a run")
    })
  )

  it.effect("409 while a run is in progress", () =>
    Effect.gen(function* () {
      const base = yield* startHost(Option.some(ADMIN_TOKEN))
      yield* TestClock.adjust("1 minute")
      const [running] = yield* listRuns(base)
      assert.strictEqual(running?.outcome, "running")

      const busy = yield* postRun(base, ADMIN_TOKEN)
      assert.strictEqual(busy.status, 409)
      assert.strictEqual(busy.body["type"], "urn:tmdb-yearly:problem:run-in-progress")
      assert.strictEqual(busy.body["run_id"], running?.run_id)

      yield* TestClock.adjust("3 minutes")
      const runs = yield* listRuns(base)
      assert.deepStrictEqual(
        runs.map((run) => run.outcome),
        ["succeeded"]
      )
    })
  )

  it.effect("202 starts a run and spaces the next one", () =>
    Effect.gen(function* () {
      const base = yield* startHost(Option.some(ADMIN_TOKEN))
      // The first run lasts from 0 to 4 minutes, so the schedule's next run would be at 34 minutes.
      yield* TestClock.adjust("10 minutes")

      const accepted = yield* postRun(base, ADMIN_TOKEN)
      assert.strictEqual(accepted.status, 202)
      const runId = accepted.body["run_id"]
      assert.isString(runId)
      const [requested] = yield* listRuns(base)
      assert.strictEqual(requested?.run_id, runId)
      assert.strictEqual(requested?.outcome, "running")
      assert.strictEqual(minuteOf(requested?.started_at ?? ""), 10)

      const again = yield* postRun(base, ADMIN_TOKEN)
      assert.strictEqual(again.status, 409)
      assert.strictEqual(again.body["run_id"], runId)

      // The requested run ends at 14 minutes, so the next scheduled run starts at 44, not 34.
      yield* TestClock.adjust("4 minutes")
      yield* TestClock.adjust("29 minutes")
      const beforeNext = yield* listRuns(base)
      assert.deepStrictEqual(
        beforeNext.map((run) => [minuteOf(run.started_at), run.outcome]),
        [
          [10, "succeeded"],
          [0, "succeeded"]
        ]
      )
      yield* TestClock.adjust("1 minute")
      const afterNext = yield* listRuns(base)
      assert.deepStrictEqual(
        afterNext.map((run) => [minuteOf(run.started_at), run.outcome]),
        [
          [44, "running"],
          [10, "succeeded"],
          [0, "succeeded"]
        ]
      )
      yield* TestClock.adjust("4 minutes")
    })
  )

  it.effect("202 without a token when none is set", () =>
    Effect.gen(function* () {
      const base = yield* startHost(Option.none())
      yield* TestClock.adjust("4 minutes")
      const accepted = yield* postRun(base)
      assert.strictEqual(accepted.status, 202)
      assert.deepStrictEqual(Object.keys(accepted.body), ["run_id"])
      yield* TestClock.adjust("4 minutes")
      const runs = yield* listRuns(base)
      assert.deepStrictEqual(
        runs.map((run) => [run.run_id === accepted.body["run_id"], run.outcome]),
        [
          [true, "succeeded"],
          [false, "succeeded"]
        ]
      )
    })
  )

  it.effect("403 from another origin", () =>
    Effect.gen(function* () {
      const base = yield* startHost(Option.none())
      yield* TestClock.adjust("4 minutes")

      const rejected = yield* postRun(base, undefined, { origin: "http://attacker.test" })
      const sameOrigin = yield* postRun(base, undefined, { origin: base })

      assert.strictEqual(rejected.status, 403)
      assert.strictEqual(rejected.body["type"], "urn:tmdb-yearly:problem:cross-origin-rejected")
      assert.strictEqual(sameOrigin.status, 202)
      yield* TestClock.adjust("4 minutes")
      assert.strictEqual((yield* listRuns(base)).length, 2)
    })
  )

  it.effect("503 when the database is unavailable", () =>
    Effect.gen(function* () {
      const unavailable = Layer.succeed(
        Readiness,
        Readiness.of({
          check: Effect.fail(new StorageError({ operation: "Readiness.check", detail: "connection refused" }))
        })
      )
      const base = yield* startHost(Option.none(), unavailable)
      yield* TestClock.adjust("4 minutes")

      const response = yield* postRun(base)

      assert.strictEqual(response.status, 503)
      assert.strictEqual(response.headers.get("retry-after"), "5")
      assert.strictEqual(response.body["type"], "urn:tmdb-yearly:problem:database-unavailable")
      yield* TestClock.adjust("4 minutes")
      assert.strictEqual((yield* listRuns(base)).length, 1)
    })
  )
})
