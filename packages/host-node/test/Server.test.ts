import { assert, describe, it } from "@effect/vitest"
import { MAX_WEBHOOK_BODY_BYTES, RatingsRepository, RunLog, RunReport, StorageError } from "@tmdb-yearly/core"
import { DateTime, Effect, Layer, Option, Redacted, Ref } from "effect"
import type { Scope } from "effect"
import { getJson, postWebhook, TEST_WEBHOOK_SECRET } from "../../../testing/webhookClient.ts"
import { Readiness } from "../src/Readiness.ts"
import { serverBaseUrl, serverLayer } from "../src/Server.ts"
import { WebhookSecret } from "../src/WebhookSecret.ts"

const TABLE = [
  { year: "1990", vote_average: "8.1", quantity: "10" },
  { year: "1994", vote_average: "8.5", quantity: "3" }
]

/** Counts the calls to `store`, to show that a rejected request never reached the repository. */
const countingRepository = (stores: Ref.Ref<number>) =>
  Layer.effect(
    RatingsRepository,
    Effect.gen(function* () {
      const memory = yield* RatingsRepository
      return RatingsRepository.of({
        ...memory,
        store: (delivery, receivedAt) =>
          Ref.update(stores, (n) => n + 1).pipe(Effect.andThen(memory.store(delivery, receivedAt)))
      })
    })
  ).pipe(Layer.provide(RatingsRepository.layerMemory))

const unavailable = new StorageError({ operation: "RatingsRepository.store", detail: "connection refused" })

const downRepository = Layer.succeed(
  RatingsRepository,
  RatingsRepository.of({
    store: () => Effect.fail(unavailable),
    latest: Effect.fail(unavailable),
    yearHistory: () => Effect.fail(unavailable)
  })
)

/** Starts the server on a free loopback port over the given stores and returns its base URL. */
const startServer = (
  repository: Layer.Layer<RatingsRepository>,
  runLog: Layer.Layer<RunLog> = RunLog.layerMemory
): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      serverLayer({
        port: 0,
        host: "127.0.0.1",
        gracefulShutdownTimeout: "1 second",
        adminToken: Option.none(),
        voteAverageDecimals: 1
      }).pipe(
        Layer.provide([
          repository,
          runLog,
          Readiness.layerMemory,
          WebhookSecret.layer(Option.some(Redacted.make(TEST_WEBHOOK_SECRET)))
        ])
      )
    ).pipe(Effect.orDie)
    return yield* serverBaseUrl.pipe(Effect.provideContext(context))
  })

describe("HTTP server", () => {
  it.live("health endpoints return 200", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const live = yield* getJson(`${base}/health/live`)
      assert.strictEqual(live.status, 200)
      assert.deepStrictEqual(live.body, { status: "live" })
      const ready = yield* getJson(`${base}/health/ready`)
      assert.strictEqual(ready.status, 200)
      assert.deepStrictEqual(ready.body, { status: "ready" })
    })
  )

  it.live("stored delivery is served back", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const before = yield* getJson(`${base}/yearly-ratings`)
      assert.strictEqual(before.status, 404)

      const posted = yield* postWebhook({
        url: `${base}/webhooks/yearly-ratings`,
        id: "msg_one",
        body: JSON.stringify(TABLE)
      })
      assert.strictEqual(posted.status, 201)
      assert.deepStrictEqual(posted.body, { delivery_id: "msg_one", stored: true })

      const latest = yield* getJson(`${base}/yearly-ratings`)
      assert.strictEqual(latest.status, 200)
      const body = latest.body as { delivery_id: string; received_at: string; ratings: unknown }
      assert.strictEqual(body.delivery_id, "msg_one")
      assert.deepStrictEqual(body.ratings, TABLE)
      assert.match(body.received_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)

      const year = yield* getJson(`${base}/yearly-ratings/1994`)
      assert.strictEqual(year.status, 200)
      assert.deepStrictEqual(year.body, {
        year: "1994",
        history: [{ delivery_id: "msg_one", received_at: body.received_at, vote_average: "8.5", quantity: "3" }]
      })
      const missingYear = yield* getJson(`${base}/yearly-ratings/1850`)
      assert.strictEqual(missingYear.status, 404)
      const badYear = yield* getJson(`${base}/yearly-ratings/abc`)
      assert.strictEqual(badYear.status, 400)
    })
  )

  it.live("runs are listed newest first", () =>
    Effect.gen(function* () {
      const report = (runId: string, minute: number) =>
        new RunReport({
          runId,
          startedAt: DateTime.makeUnsafe(Date.UTC(2026, 1, 17, 12, minute)),
          finishedAt: DateTime.makeUnsafe(Date.UTC(2026, 1, 17, 12, minute, 5)),
          pagesRequested: 10,
          pagesRead: 10,
          movies: 200,
          duplicates: 0,
          undated: 0,
          years: 72,
          deliveryId: `msg_${runId}`,
          outcome: "succeeded",
          failure: null
        })
      const runLog = Layer.effect(
        RunLog,
        Effect.gen(function* () {
          const log = yield* RunLog
          yield* log.start(report("a", 0))
          yield* log.start(report("b", 30))
          return log
        }).pipe(Effect.orDie)
      ).pipe(Layer.provide(RunLog.layerMemory))
      const base = yield* startServer(RatingsRepository.layerMemory, runLog)

      const runs = yield* getJson(`${base}/runs`)
      assert.strictEqual(runs.status, 200)
      assert.deepStrictEqual(runs.body, [
        {
          run_id: "b",
          started_at: "2026-02-17T12:30:00.000Z",
          finished_at: "2026-02-17T12:30:05.000Z",
          pages_requested: 10,
          pages_read: 10,
          movies: 200,
          duplicates: 0,
          undated: 0,
          years: 72,
          delivery_id: "msg_b",
          outcome: "succeeded",
          failure: null
        },
        {
          run_id: "a",
          started_at: "2026-02-17T12:00:00.000Z",
          finished_at: "2026-02-17T12:00:05.000Z",
          pages_requested: 10,
          pages_read: 10,
          movies: 200,
          duplicates: 0,
          undated: 0,
          years: 72,
          delivery_id: "msg_a",
          outcome: "succeeded",
          failure: null
        }
      ])
      const limited = yield* getJson(`${base}/runs?limit=1`)
      assert.strictEqual((limited.body as ReadonlyArray<unknown>).length, 1)
      const badLimit = yield* getJson(`${base}/runs?limit=0`)
      assert.strictEqual(badLimit.status, 400)
    })
  )

  it.live("dashboard is served at /", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const empty = yield* getJson(`${base}/`)
      assert.strictEqual(empty.status, 200)
      assert.strictEqual(empty.headers.get("content-type"), "text/html; charset=utf-8")
      assert.strictEqual(empty.headers.get("cache-control"), "no-store")
      assert.strictEqual(
        empty.headers.get("content-security-policy"),
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
      )
      assert.include(empty.body as string, "No delivery yet")

      const posted = yield* postWebhook({
        url: `${base}/webhooks/yearly-ratings`,
        id: "msg_page",
        body: JSON.stringify(TABLE)
      })
      assert.strictEqual(posted.status, 201)
      const page = (yield* getJson(`${base}/`)).body as string
      assert.include(page, "msg_page")
      assert.strictEqual(page.match(/class="mark-average"/g)?.length, 2)
      assert.strictEqual(page.match(/class="mark-quantity"/g)?.length, 2)
    })
  )

  it.live("dashboard is 503 when storage fails", () =>
    Effect.gen(function* () {
      const base = yield* startServer(downRepository)
      const page = yield* getJson(`${base}/`)
      assert.strictEqual(page.status, 503)
      assert.strictEqual(page.headers.get("retry-after"), "5")
      assert.strictEqual(page.headers.get("content-type"), "text/html; charset=utf-8")
      assert.include(page.body as string, "Database unavailable")
      assert.notInclude(page.body as string, "connection refused")
    })
  )

  it.live("POST /runs is 503 without a scheduler", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const response = yield* Effect.promise(() => fetch(`${base}/runs`, { method: "POST" }))
      assert.strictEqual(response.status, 503)
      assert.strictEqual(response.headers.get("retry-after"), "5")
      const problem = (yield* Effect.promise(() => response.json())) as { type: string }
      assert.strictEqual(problem.type, "urn:tmdb-yearly:problem:scheduler-unavailable")
    })
  )

  it.live("metrics list the webhook series at zero", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const metrics = yield* getJson(`${base}/metrics`)
      assert.strictEqual(metrics.status, 200)
      assert.strictEqual(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
      const text = metrics.body as string
      for (const status of ["200", "201", "400", "401", "413", "415", "503"]) {
        assert.match(
          text,
          new RegExp(`^tmdb_yearly_webhook_deliveries_received_total\\{status="${status}"\\} \\d+$`, "m")
        )
      }
      assert.match(text, /^tmdb_yearly_webhook_rows_stored_total \d+$/m)
      assert.match(text, /^tmdb_yearly_webhook_request_duration_seconds_count \d+$/m)
    })
  )

  it.live("OpenAPI document and docs page", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const openapi = yield* getJson(`${base}/openapi.json`)
      assert.strictEqual(openapi.status, 200)
      const paths = Object.keys((openapi.body as { paths: Record<string, unknown> }).paths)
      assert.sameMembers(paths, [
        "/yearly-ratings",
        "/yearly-ratings/{year}",
        "/runs",
        "/health/live",
        "/health/ready",
        "/webhooks/yearly-ratings"
      ])
      const runs = (openapi.body as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> })
        .paths["/runs"]
      assert.sameMembers(Object.keys(runs ?? {}), ["get", "post"])
      assert.includeMembers(Object.keys(runs?.["post"]?.responses ?? {}), ["202", "401", "409", "503"])
      const docs = yield* getJson(`${base}/docs`)
      assert.strictEqual(docs.status, 200)
      assert.include(docs.body as string, "<html")
    })
  )
})

/** Sends a request without a body and returns the status, the content type and the parsed JSON body. */
const send = (method: string, url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method })
    const text = await response.text()
    return {
      status: response.status,
      contentType: response.headers.get("content-type"),
      body: text === "" ? null : (JSON.parse(text) as unknown)
    }
  })

describe("error problems", () => {
  const unknownRoutes: ReadonlyArray<readonly [string, string, string]> = [
    ["GET", "/nope", "/nope"],
    ["GET", "/nope?limit=1", "/nope"],
    ["POST", "/yearly-ratings", "/yearly-ratings"],
    ["GET", "/webhooks/yearly-ratings", "/webhooks/yearly-ratings"],
    ["DELETE", "/runs", "/runs"],
    ["GET", "/yearly-ratings/1994/extra", "/yearly-ratings/1994/extra"]
  ]
  it.live("unknown route is a 404 problem", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      for (const [method, url, path] of unknownRoutes) {
        const response = yield* send(method, `${base}${url}`)
        assert.strictEqual(response.status, 404, `${method} ${url}`)
        assert.strictEqual(response.contentType, "application/problem+json", `${method} ${url}`)
        assert.deepStrictEqual(response.body, {
          type: "urn:tmdb-yearly:problem:route-not-found",
          title: "Route not found",
          status: 404,
          detail: `No route matches ${method} ${path}. The endpoints are listed at /openapi.json.`,
          method,
          path
        })
      }
    })
  )

  it.live("404 problem cuts a long path", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const response = yield* send("GET", `${base}/${"a".repeat(500)}`)
      assert.strictEqual(response.status, 404)
      assert.strictEqual((response.body as { path: string }).path, `/${"a".repeat(199)}…`)
    })
  )

  const badParameters: ReadonlyArray<readonly [string, string, string, string]> = [
    [
      "/yearly-ratings/abc",
      "year",
      '"abc"',
      'Invalid path parameter year="abc": expected a four-digit year from 1000 to 9999.'
    ],
    [
      "/yearly-ratings/1e3",
      "year",
      '"1e3"',
      'Invalid path parameter year="1e3": expected a four-digit year from 1000 to 9999.'
    ],
    [
      "/yearly-ratings/1994.0",
      "year",
      '"1994.0"',
      'Invalid path parameter year="1994.0": expected a four-digit year from 1000 to 9999.'
    ],
    [
      "/yearly-ratings/0999",
      "year",
      '"0999"',
      'Invalid path parameter year="0999": expected a four-digit year from 1000 to 9999.'
    ],
    [
      "/yearly-ratings/19940",
      "year",
      '"19940"',
      'Invalid path parameter year="19940": expected a four-digit year from 1000 to 9999.'
    ],
    ["/runs?limit=0", "limit", '"0"', 'Invalid query parameter limit="0": expected an integer from 1 to 100.'],
    ["/runs?limit=101", "limit", '"101"', 'Invalid query parameter limit="101": expected an integer from 1 to 100.'],
    ["/runs?limit=abc", "limit", '"abc"', 'Invalid query parameter limit="abc": expected an integer from 1 to 100.'],
    ["/runs?limit=1.5", "limit", '"1.5"', 'Invalid query parameter limit="1.5": expected an integer from 1 to 100.'],
    [
      "/runs?limit=5&limit=6",
      "limit",
      '["5","6"]',
      'Invalid query parameter limit=["5","6"]: expected one value, but the request has 2.'
    ]
  ]
  it.live("bad parameter is a 400 problem", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      for (const [url, parameter, value, detail] of badParameters) {
        const response = yield* send("GET", `${base}${url}`)
        assert.strictEqual(response.status, 400, url)
        assert.strictEqual(response.contentType, "application/problem+json", url)
        assert.deepStrictEqual(
          response.body,
          {
            type: "urn:tmdb-yearly:problem:invalid-parameter",
            title: "Invalid request parameter",
            status: 400,
            detail,
            parameter,
            value
          },
          url
        )
      }
    })
  )

  it.live("parameters at their limits are accepted", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      for (const url of ["/runs?limit=1", "/runs?limit=100"]) {
        assert.strictEqual((yield* send("GET", `${base}${url}`)).status, 200, url)
      }
      for (const url of ["/yearly-ratings/1000", "/yearly-ratings/9999"]) {
        const response = yield* send("GET", `${base}${url}`)
        assert.strictEqual(response.status, 404, url)
        assert.strictEqual((response.body as { type: string }).type, "urn:tmdb-yearly:problem:not-found", url)
      }
    })
  )
})

describe("webhook statuses", () => {
  it.live("201 then 200 on replay, rows written once", () =>
    Effect.gen(function* () {
      const stores = yield* Ref.make(0)
      const base = yield* startServer(countingRepository(stores))
      const url = `${base}/webhooks/yearly-ratings`
      const first = yield* postWebhook({ url, id: "msg_replay", body: JSON.stringify(TABLE) })
      assert.strictEqual(first.status, 201)
      const replay = yield* postWebhook({ url, id: "msg_replay", body: JSON.stringify([TABLE[0]]) })
      assert.strictEqual(replay.status, 200)
      assert.deepStrictEqual(replay.body, { delivery_id: "msg_replay", stored: false })
      const latest = yield* getJson(`${base}/yearly-ratings`)
      assert.deepStrictEqual((latest.body as { ratings: unknown }).ratings, TABLE)
    })
  )

  it.live("413 for 64 KiB + 1 bytes, repository untouched", () =>
    Effect.gen(function* () {
      const stores = yield* Ref.make(0)
      const base = yield* startServer(countingRepository(stores))
      const body = new Uint8Array(MAX_WEBHOOK_BODY_BYTES + 1).fill(0x20)
      const response = yield* postWebhook({ url: `${base}/webhooks/yearly-ratings`, body })
      assert.strictEqual(response.status, 413)
      assert.strictEqual((response.body as { max_bytes: number }).max_bytes, 65536)
      assert.strictEqual(yield* Ref.get(stores), 0)
    })
  )

  it.live("413 for a chunked body over 64 KiB", () =>
    Effect.gen(function* () {
      const stores = yield* Ref.make(0)
      const base = yield* startServer(countingRepository(stores))
      // A stream body is sent with Transfer-Encoding: chunked, so only the bytes read show the size.
      const chunk = new Uint8Array(16 * 1024).fill(0x20)
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(chunk)
          controller.close()
        }
      })
      const response = yield* Effect.promise(() =>
        fetch(`${base}/webhooks/yearly-ratings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          duplex: "half"
        } as RequestInit)
      )
      assert.strictEqual(response.status, 413)
      assert.strictEqual(yield* Ref.get(stores), 0)
    })
  )

  it.live("exactly 64 KiB is read", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const json = JSON.stringify(TABLE)
      const body = json + " ".repeat(MAX_WEBHOOK_BODY_BYTES - json.length)
      const response = yield* postWebhook({ url: `${base}/webhooks/yearly-ratings`, body })
      assert.strictEqual(response.status, 201)
    })
  )

  it.live("415 for text/plain", () =>
    Effect.gen(function* () {
      const stores = yield* Ref.make(0)
      const base = yield* startServer(countingRepository(stores))
      const response = yield* postWebhook({
        url: `${base}/webhooks/yearly-ratings`,
        body: JSON.stringify(TABLE),
        contentType: "text/plain"
      })
      assert.strictEqual(response.status, 415)
      assert.strictEqual((response.body as { content_type: string }).content_type, "text/plain")
      assert.strictEqual(yield* Ref.get(stores), 0)
    })
  )

  it.live("JSON with charset is accepted", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const response = yield* postWebhook({
        url: `${base}/webhooks/yearly-ratings`,
        body: JSON.stringify(TABLE),
        contentType: "application/json; charset=utf-8"
      })
      assert.strictEqual(response.status, 201)
    })
  )

  it.live("401 for a stale timestamp", () =>
    Effect.gen(function* () {
      const stores = yield* Ref.make(0)
      const base = yield* startServer(countingRepository(stores))
      const response = yield* postWebhook({
        url: `${base}/webhooks/yearly-ratings`,
        body: JSON.stringify(TABLE),
        timestamp: Math.floor(Date.now() / 1000) - 10 * 60
      })
      assert.strictEqual(response.status, 401)
      assert.strictEqual((response.body as { reason: string }).reason, "stale-timestamp")
      assert.strictEqual(yield* Ref.get(stores), 0)
    })
  )

  it.live("401 for a wrong secret or missing headers", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const url = `${base}/webhooks/yearly-ratings`
      const wrongSecret = yield* postWebhook({
        url,
        body: JSON.stringify(TABLE),
        secret: "whsec_b3RoZXItc2VjcmV0LW9mLXRoaXJ0eS10d28tYnl0ZXMh"
      })
      assert.strictEqual(wrongSecret.status, 401)
      assert.strictEqual((wrongSecret.body as { reason: string }).reason, "bad-signature")
      const unsigned = yield* postWebhook({ url, body: JSON.stringify(TABLE), headers: {} })
      assert.strictEqual(unsigned.status, 401)
      assert.strictEqual((unsigned.body as { reason: string }).reason, "missing-header")
    })
  )

  it.live("400 names the bad field", () =>
    Effect.gen(function* () {
      const stores = yield* Ref.make(0)
      const base = yield* startServer(countingRepository(stores))
      const bad = [TABLE[0], { year: "1994", vote_average: "eleven", quantity: "3" }]
      const response = yield* postWebhook({ url: `${base}/webhooks/yearly-ratings`, body: JSON.stringify(bad) })
      assert.strictEqual(response.status, 400)
      assert.strictEqual(response.headers.get("content-type"), "application/problem+json")
      const problem = response.body as { path: string; value: string; detail: string }
      assert.strictEqual(problem.path, "[1].vote_average")
      assert.strictEqual(problem.value, '"eleven"')
      assert.include(problem.detail, "[1].vote_average")
      assert.strictEqual(yield* Ref.get(stores), 0)
    })
  )

  it.live("400 for invalid JSON", () =>
    Effect.gen(function* () {
      const base = yield* startServer(RatingsRepository.layerMemory)
      const response = yield* postWebhook({ url: `${base}/webhooks/yearly-ratings`, body: "[{" })
      assert.strictEqual(response.status, 400)
      assert.strictEqual((response.body as { path: string }).path, "")
    })
  )

  it.live("503 with Retry-After when storage fails", () =>
    Effect.gen(function* () {
      const base = yield* startServer(downRepository)
      const response = yield* postWebhook({ url: `${base}/webhooks/yearly-ratings`, body: JSON.stringify(TABLE) })
      assert.strictEqual(response.status, 503)
      assert.strictEqual(response.headers.get("retry-after"), "5")
      assert.notInclude(JSON.stringify(response.body), "connection refused")
      const latest = yield* getJson(`${base}/yearly-ratings`)
      assert.strictEqual(latest.status, 503)
      assert.strictEqual(latest.headers.get("retry-after"), "5")
    })
  )
})
