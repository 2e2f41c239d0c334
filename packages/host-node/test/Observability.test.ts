import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { fakeTmdbScoped } from "../../../testing/FakeTmdb.ts"
import { type RunningHost, pollJson, startHostAfterFirstRun } from "../../../testing/hostProcess.ts"
import { TestDatabase, testDatabaseLayer } from "../../../testing/postgres.ts"
import { type PrometheusFamily, parsePrometheusText, sampleValue } from "../../../testing/prometheusText.ts"
import { postWebhook, TEST_WEBHOOK_SECRET } from "../../../testing/webhookClient.ts"

// One host runs as a child process, as `npm start` runs it, with LOG_FORMAT=json, against a fake TMDB that
// returns 429 once for page 4. The tests share the host and run in the order written. The first two read the
// metrics of the first cycle, the third adds a rejected delivery and a second cycle, and the last reads every
// log line.

const ADMIN_TOKEN = "observability-test-token"

class ObservedHost extends Context.Service<ObservedHost, RunningHost>()("test/ObservedHost") {
  static readonly layer = Layer.effect(
    ObservedHost,
    Effect.gen(function* () {
      const database = yield* TestDatabase
      const fake = yield* fakeTmdbScoped()
      fake.setFault(4, [{ _tag: "Status", status: 429, body: { status_code: 25 }, headers: { "retry-after": "0" } }])
      return yield* startHostAfterFirstRun({
        DATABASE_URL: Redacted.value(database.url),
        TMDB_BASE_URL: fake.url,
        TMDB_API_KEY: "observabilitytestkey",
        WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        ADMIN_TOKEN,
        LOG_FORMAT: "json"
      })
    })
  ).pipe(Layer.provide(testDatabaseLayer("observability")))
}

const scrape = (host: RunningHost) =>
  Effect.promise(async () => {
    const response = await fetch(`${host.baseUrl}/metrics`)
    return { contentType: response.headers.get("content-type"), text: await response.text() }
  })

/** The series that the tests follow, read from one scrape. Each throws when the series is missing. */
const countersOf = (families: ReadonlyMap<string, PrometheusFamily>) => ({
  runsSucceeded: sampleValue(families, "tmdb_yearly_runs_total", { outcome: "succeeded" }),
  runsFailed: sampleValue(families, "tmdb_yearly_runs_total", { outcome: "failed" }),
  runDurations: sampleValue(families, "tmdb_yearly_run_duration_seconds_count"),
  tmdbOk: sampleValue(families, "tmdb_yearly_tmdb_requests_total", { status: "200" }),
  tmdbTooMany: sampleValue(families, "tmdb_yearly_tmdb_requests_total", { status: "429" }),
  tmdbRetries: sampleValue(families, "tmdb_yearly_tmdb_retries_total"),
  tmdbPages: sampleValue(families, "tmdb_yearly_tmdb_pages_read_total"),
  deliveriesStored: sampleValue(families, "tmdb_yearly_webhook_deliveries_received_total", { status: "201" }),
  deliveriesUnauthorized: sampleValue(families, "tmdb_yearly_webhook_deliveries_received_total", { status: "401" }),
  deliveriesInvalid: sampleValue(families, "tmdb_yearly_webhook_deliveries_received_total", { status: "400" }),
  rowsStored: sampleValue(families, "tmdb_yearly_webhook_rows_stored_total"),
  webhookDurations: sampleValue(families, "tmdb_yearly_webhook_request_duration_seconds_count")
})

const readCounters = (host: RunningHost) =>
  Effect.map(scrape(host), ({ text }) => countersOf(parsePrometheusText(text)))

/** Parses every line that the host wrote to stdout and stderr as JSON, failing on the first that is not. */
const logLines = (host: RunningHost): ReadonlyArray<Record<string, unknown>> =>
  [host.cli.stdout(), host.cli.stderr()]
    .flatMap((text) => text.split("\n"))
    .filter((line) => line !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>
      } catch {
        throw new Error(`This log line is not JSON: ${line}`)
      }
    })

layer(ObservedHost.layer, { timeout: "90 seconds", excludeTestServices: true })(
  "metrics and logs of a running host",
  (it) => {
    it.effect("metrics parse as Prometheus text", () =>
      Effect.gen(function* () {
        const host = yield* ObservedHost
        const { contentType, text } = yield* scrape(host)
        assert.strictEqual(contentType, "text/plain; version=0.0.4; charset=utf-8")
        const families = parsePrometheusText(text)
        const types = Object.fromEntries([...families.values()].map((family) => [family.name, family.type]))
        assert.deepInclude(types, {
          tmdb_yearly_runs_total: "counter",
          tmdb_yearly_run_duration_seconds: "histogram",
          tmdb_yearly_tmdb_requests_total: "counter",
          tmdb_yearly_tmdb_retries_total: "counter",
          tmdb_yearly_tmdb_pages_read_total: "counter",
          tmdb_yearly_webhook_deliveries_received_total: "counter",
          tmdb_yearly_webhook_rows_stored_total: "counter",
          tmdb_yearly_webhook_request_duration_seconds: "histogram"
        })
        for (const family of families.values()) assert.isString(family.help, `${family.name} has no HELP`)
      })
    )

    it.effect("counters after the first cycle", () =>
      Effect.gen(function* () {
        const host = yield* ObservedHost
        assert.deepStrictEqual(yield* readCounters(host), {
          runsSucceeded: 1,
          runsFailed: 0,
          runDurations: 1,
          tmdbOk: 10,
          tmdbTooMany: 1,
          tmdbRetries: 1,
          tmdbPages: 10,
          deliveriesStored: 1,
          deliveriesUnauthorized: 0,
          deliveriesInvalid: 0,
          rowsStored: 72,
          webhookDurations: 1
        })
      })
    )

    it.effect("counters move by one cycle and one rejection", () =>
      Effect.gen(function* () {
        const host = yield* ObservedHost
        const before = yield* readCounters(host)

        const rejected = yield* postWebhook({
          url: `${host.baseUrl}/webhooks/yearly-ratings`,
          id: "msg_wrong_secret",
          body: JSON.stringify([{ year: "1990", vote_average: "8.1", quantity: "10" }]),
          secret: "whsec_b3RoZXItc2VjcmV0LW9mLXRoaXJ0eS10d28tYnl0ZXMh"
        })
        assert.strictEqual(rejected.status, 401)

        const started = yield* Effect.promise(async () => {
          const response = await fetch(`${host.baseUrl}/runs`, {
            method: "POST",
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
          })
          return { status: response.status, body: (await response.json()) as { readonly run_id: string } }
        })
        assert.strictEqual(started.status, 202)
        yield* pollJson(
          host.cli,
          `${host.baseUrl}/runs?limit=1`,
          (status, body) =>
            status === 200 &&
            Array.isArray(body) &&
            body[0]?.run_id === started.body.run_id &&
            body[0]?.outcome === "succeeded",
          30_000
        )

        const after = yield* readCounters(host)
        const moved = Object.fromEntries(
          Object.entries(after).map(([name, value]) => [name, value - before[name as keyof typeof before]])
        )
        assert.deepStrictEqual(moved, {
          runsSucceeded: 1,
          runsFailed: 0,
          runDurations: 1,
          tmdbOk: 10,
          tmdbTooMany: 0,
          tmdbRetries: 0,
          tmdbPages: 10,
          deliveriesStored: 1,
          deliveriesUnauthorized: 1,
          deliveriesInvalid: 0,
          rowsStored: 72,
          webhookDurations: 2
        })
      })
    )

    it.effect("JSON log lines carry the ids", () =>
      Effect.gen(function* () {
        const host = yield* ObservedHost
        const lines = logLines(host)
        const withMessage = (message: string) => lines.filter((line) => line["message"] === message)

        for (const line of lines) {
          assert.match(String(line["timestamp"]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
          assert.include(["DEBUG", "INFO", "WARN", "ERROR"], line["level"])
          assert.isString(line["message"])
        }

        const starts = withMessage("Run started")
        const ends = withMessage("Run finished")
        assert.strictEqual(starts.length, 2)
        assert.strictEqual(ends.length, 2)
        const runIds = starts.map((line) => line["run_id"])
        for (const runId of runIds) assert.match(String(runId), /^[0-9a-f-]{36}$/)
        assert.deepStrictEqual(
          ends.map((line) => line["run_id"]),
          runIds
        )
        for (const end of ends) {
          assert.strictEqual(end["outcome"], "succeeded")
          assert.strictEqual(end["pages_read"], 10)
          assert.strictEqual(end["movies"], 200)
          assert.strictEqual(end["years"], 72)
          assert.strictEqual(end["delivery_id"], `msg_${end["run_id"]}`)
          assert.isNumber(end["duration_ms"])
          assert.notProperty(end, "route")
        }

        const retries = withMessage("Retrying a TMDB page request")
        assert.strictEqual(retries.length, 1)
        assert.strictEqual(retries[0]?.["run_id"], runIds[0])
        assert.strictEqual(retries[0]?.["page"], 4)
        assert.strictEqual(retries[0]?.["attempt"], 1)
        assert.strictEqual(retries[0]?.["status"], 429)

        const received = withMessage("Webhook delivery received")
        assert.deepStrictEqual(
          received.map((line) => [line["delivery_id"], line["status"], line["rows"]]),
          runIds.map((runId) => [`msg_${runId}`, 201, 72])
        )
        const rejected = withMessage("Webhook delivery rejected")
        assert.deepStrictEqual(
          rejected.map((line) => [line["delivery_id"], line["status"], line["reason"]]),
          [["msg_wrong_secret", 401, "bad-signature"]]
        )

        const accepted = withMessage("Run request accepted")
        assert.deepStrictEqual(
          accepted.map((line) => line["run_id"]),
          [runIds[1]]
        )
        assert.strictEqual(host.cli.stderr(), "")
      })
    )
  }
)
