import { assert, it } from "@effect/vitest"
import { TmdbHttpSource, type TmdbHttpOptions } from "@tmdb-yearly/adapters"
import { collectPages, PageReadError, TopRatedSource } from "@tmdb-yearly/core"
import { Context, Effect, Fiber, Layer, Logger, Metric, Redacted, Tracer } from "effect"
import { FetchHttpClient, HttpClient, HttpClientResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { afterAll, beforeEach } from "vitest"
import { fakeTmdbScoped, type FakeTmdb, type FakeTmdbOptions } from "../../../testing/FakeTmdb.ts"
import { recordedMovies, recordedPage } from "../../../testing/topRatedFixture.ts"

// Distinctive values, so that a leak shows up in any text that is searched for them.
const API_KEY = "fake-v3-key-7f3c9a1e5b2d4c6e8a0b1d3f"
const WRONG_API_KEY = "fake-v3-wrong-key-0a9b8c7d6e5f4a3b"
const ACCESS_TOKEN = "fake-v4-token-Qm9vayBvZiBTZWNyZXRz.c2lnbmF0dXJl"
const WRONG_ACCESS_TOKEN = "fake-v4-wrong-token-UmV2b2tlZCB0b2tlbg"
const SECRETS = [API_KEY, WRONG_API_KEY, ACCESS_TOKEN, WRONG_ACCESS_TOKEN]

const apiKey = (key: string) => ({ _tag: "ApiKey", key: Redacted.make(key) }) as const
const accessToken = (token: string) => ({ _tag: "AccessToken", token: Redacted.make(token) }) as const

interface LogEntry {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

// Every log line of this file, kept for the check after all tests, and the entries of the current test.
const allLogLines: Array<string> = []
const logEntries: Array<LogEntry> = []
const CaptureLogs = Logger.layer([
  Logger.make((options) => {
    allLogLines.push(Logger.formatJson.log(options))
    logEntries.push(Logger.formatStructured.log(options))
  })
])

beforeEach(() => {
  logEntries.length = 0
})

afterAll(() => {
  for (const secret of SECRETS) {
    assert.isFalse(
      allLogLines.some((line) => line.includes(secret)),
      `a log line contains ${secret}`
    )
  }
})

const retryLogs = () =>
  logEntries.filter((entry) => entry.message === "Retrying a TMDB page request").map((entry) => entry.annotations)

const startFake = (options: FakeTmdbOptions = { credential: { apiKey: API_KEY } }) => fakeTmdbScoped(options)

/** Builds the HTTP source against `fake`, with a 5 ms retry base delay unless `overrides` sets another. */
const sourceFor = (fake: FakeTmdb, overrides: Partial<TmdbHttpOptions> = {}) =>
  Layer.build(
    TmdbHttpSource.layer({
      baseUrl: fake.url,
      credential: apiKey(API_KEY),
      language: "en-US",
      retryBaseDelay: "5 millis",
      ...overrides
    }).pipe(Layer.provide(FetchHttpClient.layer))
  ).pipe(Effect.map((context) => Context.get(context, TopRatedSource)))

const firstIds = (page: number) => recordedPage(page).results.map((movie) => movie.id)

it.live("api key goes in the query string", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    const source = yield* sourceFor(fake, { region: "GB" })

    const page = yield* source.readPage(1)

    assert.strictEqual(fake.requests.length, 1)
    const request = fake.requests[0]!
    assert.strictEqual(request.method, "GET")
    assert.strictEqual(request.path, "/3/movie/top_rated")
    assert.strictEqual(request.search, `page=1&language=en-US&region=GB&api_key=${API_KEY}`)
    assert.strictEqual(request.headers.authorization, undefined)
    assert.deepStrictEqual(
      page.results.map((movie) => movie.id),
      firstIds(1)
    )
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("access token goes in the Authorization header", () =>
  Effect.gen(function* () {
    const fake = yield* startFake({ credential: { accessToken: ACCESS_TOKEN } })
    const source = yield* sourceFor(fake, { credential: accessToken(ACCESS_TOKEN), language: "de-DE" })

    const page = yield* source.readPage(2)

    assert.strictEqual(fake.requests.length, 1)
    const request = fake.requests[0]!
    assert.strictEqual(request.method, "GET")
    assert.strictEqual(request.path, "/3/movie/top_rated")
    assert.strictEqual(request.search, "page=2&language=de-DE")
    assert.strictEqual(request.headers.authorization, `Bearer ${ACCESS_TOKEN}`)
    assert.strictEqual(page.page, 2)
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("429 with Retry-After 2 waits two seconds", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(3, [{ _tag: "Status", status: 429, body: { status_code: 25 }, headers: { "retry-after": "2" } }])
    const source = yield* sourceFor(fake)

    const page = yield* source.readPage(3)

    const requests = fake.requestsFor(3)
    assert.strictEqual(requests.length, 2)
    assert.isAtLeast(requests[1]!.time - requests[0]!.time, 2000)
    assert.deepStrictEqual(
      page.results.map((movie) => movie.id),
      firstIds(3)
    )
    assert.deepStrictEqual(retryLogs(), [
      { page: 3, attempt: 1, status: 429, delay_ms: 2000, error: "HTTP 429, status_code 25" }
    ])
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("Retry-After as an HTTP date", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    // A whole second at least 2 seconds ahead, because an HTTP date has no fractions of a second.
    const retryAt = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000)
    fake.setFault(4, [{ _tag: "Status", status: 503, headers: { "retry-after": retryAt.toUTCString() } }])
    const source = yield* sourceFor(fake)

    const page = yield* source.readPage(4)

    const requests = fake.requestsFor(4)
    assert.strictEqual(requests.length, 2)
    // The backoff alone would wait 5 ms at most, and the date requests about 2 seconds.
    assert.isAtLeast(requests[1]!.time - requests[0]!.time, 1500)
    assert.strictEqual(page.page, 4)
    const [log] = retryLogs()
    assert.strictEqual(log?.status, 503)
    assert.isAtLeast(log?.delay_ms as number, 1500)
    assert.isAtMost(log?.delay_ms as number, 3000)
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("Retry-After above the cap waits the cap", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(5, [{ _tag: "Status", status: 429, headers: { "retry-after": "3600" } }])
    const source = yield* sourceFor(fake, { maxRetryAfter: "50 millis" })

    yield* source.readPage(5)

    assert.strictEqual(fake.requestsFor(5).length, 2)
    assert.strictEqual(retryLogs()[0]?.delay_ms, 50)
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("502 with an HTML body, then success", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    const html = "<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>"
    fake.setFault(6, [{ _tag: "Status", status: 502, body: html }])
    const source = yield* sourceFor(fake)

    const page = yield* source.readPage(6)

    assert.strictEqual(fake.requestsFor(6).length, 2)
    assert.deepStrictEqual(
      page.results.map((movie) => movie.id),
      firstIds(6)
    )
    const [log] = retryLogs()
    assert.strictEqual(log?.status, 502)
    assert.strictEqual(log?.error, `HTTP 502, text/html; charset=utf-8 body: ${html}`)
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("502 with HTML on every attempt is http-status", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(7, { _tag: "Status", status: 502, body: "<html><body>bad gateway</body></html>" })
    const source = yield* sourceFor(fake)

    const error = yield* Effect.flip(source.readPage(7))

    assert.strictEqual(fake.requestsFor(7).length, 5)
    assert.strictEqual(error.reason, "http-status")
    assert.strictEqual(error.status, 502)
    assert.strictEqual(
      error.detail,
      "HTTP 502, text/html; charset=utf-8 body: <html><body>bad gateway</body></html> (gave up after 5 attempts)"
    )
    assert.deepStrictEqual(
      retryLogs().map((log) => log.attempt),
      [1, 2, 3, 4]
    )
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("stalled response times out and is retried", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(8, [{ _tag: "Stall" }])
    const source = yield* sourceFor(fake, { requestTimeout: "300 millis" })

    const page = yield* source.readPage(8)

    const requests = fake.requestsFor(8)
    assert.strictEqual(requests.length, 2)
    assert.isAtLeast(requests[1]!.time - requests[0]!.time, 300)
    assert.strictEqual(page.page, 8)
    assert.strictEqual(retryLogs()[0]?.status, "timeout")
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("stall on every attempt is a timeout", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(9, { _tag: "Stall" })
    const source = yield* sourceFor(fake, { requestTimeout: "100 millis", maxAttempts: 2 })

    const error = yield* Effect.flip(source.readPage(9))

    assert.strictEqual(fake.requestsFor(9).length, 2)
    assert.strictEqual(error.reason, "timeout")
    assert.strictEqual(error.status, null)
    assert.strictEqual(error.detail, "no complete response within 100ms (gave up after 2 attempts)")
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("connection reset is retried", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(10, [{ _tag: "Reset" }])
    const source = yield* sourceFor(fake)

    const page = yield* source.readPage(10)

    assert.strictEqual(fake.requestsFor(10).length, 2)
    assert.strictEqual(page.page, 10)
    assert.strictEqual(retryLogs()[0]?.status, "transport")
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("rejected API key fails at once", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    const source = yield* sourceFor(fake, { credential: apiKey(WRONG_API_KEY) })

    const error = yield* Effect.flip(source.readPage(1))

    assert.strictEqual(fake.requests.length, 1)
    assert.strictEqual(error.reason, "unauthorized")
    assert.strictEqual(error.status, 401)
    assert.strictEqual(
      error.message,
      "Page 1 could not be read (unauthorized): TMDB rejected the API key (HTTP 401, status_code 7: Invalid API key: You must be granted a valid key.). Check TMDB_API_KEY (a v3 API key from the TMDB account's API settings), or set TMDB_ACCESS_TOKEN instead."
    )
    assert.deepStrictEqual(retryLogs(), [])
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("rejected access token fails at once", () =>
  Effect.gen(function* () {
    const fake = yield* startFake({ credential: { accessToken: ACCESS_TOKEN } })
    const source = yield* sourceFor(fake, { credential: accessToken(WRONG_ACCESS_TOKEN) })

    const error = yield* Effect.flip(source.readPage(1))

    assert.strictEqual(fake.requests.length, 1)
    assert.strictEqual(error.reason, "unauthorized")
    assert.strictEqual(error.status, 401)
    assert.include(error.message, "TMDB rejected the access token (HTTP 401")
    assert.include(error.message, "Check TMDB_ACCESS_TOKEN")
    assert.deepStrictEqual(retryLogs(), [])
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("page 501 is never requested", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    const source = yield* sourceFor(fake)

    const above = yield* Effect.flip(source.readPage(501))
    const zero = yield* Effect.flip(source.readPage(0))

    assert.strictEqual(fake.requests.length, 0)
    assert.strictEqual(above.reason, "no-such-page")
    assert.strictEqual(above.status, null)
    assert.strictEqual(above.page, 501)
    assert.strictEqual(zero.reason, "no-such-page")
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("status_code 22 is no-such-page", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    const body = { success: false, status_code: 22, status_message: "Invalid page." }
    fake.setFault(11, { _tag: "Status", status: 400, body })
    const source = yield* sourceFor(fake)

    const error = yield* Effect.flip(source.readPage(11))

    assert.strictEqual(fake.requestsFor(11).length, 1)
    assert.strictEqual(error.reason, "no-such-page")
    assert.strictEqual(error.status, 400)
    assert.strictEqual(error.detail, "TMDB does not serve this page (HTTP 400, status_code 22: Invalid page.)")
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("other 4xx is not retried", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(12, { _tag: "Status", status: 404, body: { status_code: 34, status_message: "Not found." } })
    const source = yield* sourceFor(fake)

    const error = yield* Effect.flip(source.readPage(12))

    assert.strictEqual(fake.requestsFor(12).length, 1)
    assert.strictEqual(error.reason, "http-status")
    assert.strictEqual(error.status, 404)
    assert.strictEqual(error.detail, "HTTP 404, status_code 34: Not found.")
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("empty page past the end of the list", () =>
  Effect.gen(function* () {
    const fake = yield* startFake({
      credential: { apiKey: API_KEY },
      movies: recordedMovies()
        .slice(0, 60)
        .map((movie) => ({ ...movie }))
    })
    const source = yield* sourceFor(fake)

    const page = yield* source.readPage(4)

    assert.strictEqual(page.page, 4)
    assert.deepStrictEqual(page.results, [])
    assert.strictEqual(page.total_pages, 3)
    assert.strictEqual(page.total_results, 60)
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("200 that does not decode names the path", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(13, {
      _tag: "Transform",
      transform: (body) => {
        body.results[2] = { ...body.results[2], vote_average: "high" }
        return body
      }
    })
    const source = yield* sourceFor(fake)

    const error = yield* Effect.flip(source.readPage(13))

    assert.strictEqual(fake.requestsFor(13).length, 1)
    assert.strictEqual(error.reason, "decode")
    assert.strictEqual(error.status, 200)
    assert.strictEqual(
      error.message,
      'Page 13 could not be read (decode): the response body is not a top-rated page: Expected number at ["results"][2]["vote_average"]'
    )
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("200 with an HTML body is a decode error", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(14, { _tag: "Status", status: 200, body: "<html><body>maintenance</body></html>" })
    const source = yield* sourceFor(fake)

    const error = yield* Effect.flip(source.readPage(14))

    assert.strictEqual(error.reason, "decode")
    assert.strictEqual(
      error.detail,
      "the response body is not JSON (text/html; charset=utf-8): <html><body>maintenance</body></html>"
    )
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("same query string on every page", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    const source = yield* sourceFor(fake, { region: "US" })

    const collection = yield* collectPages({ pages: 10, concurrency: 4 }).pipe(
      Effect.provideService(TopRatedSource, source)
    )

    assert.strictEqual(collection.pagesRead, 10)
    assert.deepStrictEqual(
      collection.pages.map((page) => page.page),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    )
    assert.strictEqual(fake.requests.length, 10)
    const pageNumbers = fake.requests.map((request) => request.page).sort((a, b) => (a ?? 0) - (b ?? 0))
    assert.deepStrictEqual(pageNumbers, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    for (const request of fake.requests) {
      assert.strictEqual(request.search, `page=${request.page}&language=en-US&region=US&api_key=${API_KEY}`)
    }
  }).pipe(Effect.provide(CaptureLogs))
)

it.effect("request starts are limited across pages", () =>
  Effect.gen(function* () {
    const starts: Array<number> = []
    // A client that responds at once from the recorded list and records the virtual time of each request.
    const recordingClient = HttpClient.make((request, url) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          starts.push(clock.currentTimeMillisUnsafe())
          const body = JSON.stringify(recordedPage(Number(url.searchParams.get("page"))))
          const headers = { "content-type": "application/json" }
          return HttpClientResponse.fromWeb(request, new Response(body, { status: 200, headers }))
        })
      )
    )
    const layer = TmdbHttpSource.layer({
      baseUrl: "http://127.0.0.1/3",
      credential: apiKey(API_KEY),
      language: "en-US",
      maxRequestsPerSecond: 5
    }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, recordingClient)))
    const source = Context.get(yield* Layer.build(layer), TopRatedSource)

    const reading = yield* Effect.forkChild(
      Effect.forEach(
        Array.from({ length: 12 }, (_, index) => index + 1),
        (page) => source.readPage(page),
        { concurrency: 12 }
      )
    )
    yield* Effect.yieldNow
    assert.strictEqual(starts.length, 5)
    yield* TestClock.adjust("999 millis")
    assert.strictEqual(starts.length, 5)
    yield* TestClock.adjust("1 millis")
    assert.strictEqual(starts.length, 10)
    yield* TestClock.adjust("1 second")
    const pages = yield* Fiber.join(reading)

    assert.strictEqual(pages.length, 12)
    assert.deepStrictEqual(starts, [0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000, 2000, 2000])
  }).pipe(Effect.provide(CaptureLogs))
)

it.live("metrics count requests, retries and pages", () =>
  Effect.gen(function* () {
    const fake = yield* startFake()
    fake.setFault(1, [{ _tag: "Status", status: 429, headers: { "retry-after": "0" } }])
    fake.setFault(2, [{ _tag: "Stall" }])
    const source = yield* sourceFor(fake, { requestTimeout: "100 millis" })

    yield* source.readPage(1)
    yield* source.readPage(2)

    const snapshots = yield* Metric.snapshot
    const count = (id: string, status?: string) => {
      const found = snapshots.find(
        (snapshot) => snapshot.id === id && (status === undefined || snapshot.attributes?.status === status)
      )
      return found?.type === "Counter" ? Number(found.state.count) : 0
    }
    assert.strictEqual(count("tmdb_yearly_tmdb_requests_total", "429"), 1)
    assert.strictEqual(count("tmdb_yearly_tmdb_requests_total", "timeout"), 1)
    assert.strictEqual(count("tmdb_yearly_tmdb_requests_total", "200"), 2)
    assert.strictEqual(count("tmdb_yearly_tmdb_retries_total"), 2)
    assert.strictEqual(count("tmdb_yearly_tmdb_pages_read_total"), 2)
  }).pipe(Effect.provide(CaptureLogs), Effect.provideService(Metric.MetricRegistry, new Map()))
)

it.live("key is absent from logs, errors and spans", () =>
  Effect.gen(function* () {
    const spans: Array<Tracer.NativeSpan> = []
    const tracer = Tracer.make({
      span: (options) => {
        const span = new Tracer.NativeSpan(options)
        spans.push(span)
        return span
      }
    })
    const fake = yield* startFake()
    // A proxy that echoes the request URL back puts the key into the body.
    const echo = `<html><body>Bad gateway for /3/movie/top_rated?api_key=${API_KEY}</body></html>`
    fake.setFault(1, [{ _tag: "Status", status: 502, body: echo }, { _tag: "Reset" }, { _tag: "Stall" }])
    fake.setFault(2, { _tag: "Status", status: 500, body: { status_code: 11, status_message: `key ${API_KEY}` } })
    const source = yield* sourceFor(fake, { requestTimeout: "100 millis", maxAttempts: 4 })
    const rejected = yield* sourceFor(fake, { credential: apiKey(WRONG_API_KEY) })

    const errors: Array<PageReadError> = []
    yield* Effect.gen(function* () {
      yield* source.readPage(1)
      errors.push(yield* Effect.flip(source.readPage(2)))
      errors.push(yield* Effect.flip(rejected.readPage(3)))
    }).pipe(Effect.withTracer(tracer))

    const errorTexts = errors.flatMap((error) => [error.message, JSON.stringify(error), String(error)])
    const spanTexts = spans.map((span) =>
      JSON.stringify({
        name: span.name,
        attributes: Object.fromEntries(span.attributes),
        exit: span.status._tag === "Ended" ? String(span.status.exit) : ""
      })
    )
    const logTexts = logEntries.map((entry) => JSON.stringify(entry))
    assert.strictEqual(errors.length, 2)
    assert.isAtLeast(logTexts.length, 5)
    assert.isTrue(
      spanTexts.some((text) => text.includes("api_key=REDACTED")),
      "a client span records the redacted URL"
    )
    for (const text of [...errorTexts, ...spanTexts, ...logTexts]) {
      assert.notInclude(text, API_KEY)
      assert.notInclude(text, WRONG_API_KEY)
    }
    assert.include(retryLogs()[0]?.error as string, "api_key=<redacted>")
  }).pipe(Effect.provide(CaptureLogs))
)
