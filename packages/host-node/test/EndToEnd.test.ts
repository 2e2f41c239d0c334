import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { type FakePageBody, type FakeTmdb, fakeTmdbScoped } from "../../../testing/FakeTmdb.ts"
import { awaitExit, freePort, pollJson, spawnCli } from "../../../testing/hostProcess.ts"
import { TestDatabase, testDatabaseLayer, withClient } from "../../../testing/postgres.ts"
import { recordedPage } from "../../../testing/topRatedFixture.ts"
import { TEST_WEBHOOK_SECRET } from "../../../testing/webhookClient.ts"

// The host runs as a child process, as `npm start` runs it. A loopback fake of TMDB serves the real 2026-02-17
// pages with the faults of a real read: a movie repeated across a page boundary, a null release date, one 429
// and one 502. The expected table is computed here, independently of the core.

/** Page 3 starts with the last movie of page 2, as when the list shifts by one while it is read. */
const shiftPage3 = (body: FakePageBody): FakePageBody => {
  const lastOfPage2 = recordedPage(2).results.at(-1)
  return { ...body, results: [{ ...lastOfPage2 }, ...body.results.slice(0, -1)] }
}

/** The eighth movie of page 5 has `release_date: null`. */
const nullDateOnPage5 = (body: FakePageBody): FakePageBody => ({
  ...body,
  results: body.results.map((movie, index) => (index === 7 ? { ...movie, release_date: null } : movie))
})

const setFaults = (fake: FakeTmdb): void => {
  fake.setFault(3, { _tag: "Transform", transform: (body) => shiftPage3(body as FakePageBody) })
  fake.setFault(5, { _tag: "Transform", transform: (body) => nullDateOnPage5(body as FakePageBody) })
  fake.setFault(4, [{ _tag: "Status", status: 429, body: { status_code: 25 }, headers: { "retry-after": "1" } }, null])
  fake.setFault(6, [{ _tag: "Status", status: 502, body: "<html><body>502 Bad Gateway</body></html>" }, null])
}

/** The pages 1 to 10 as the fake serves them, in the form the fake writes to JSON. */
const servedPages = (): ReadonlyArray<FakePageBody> =>
  Array.from({ length: 10 }, (_, index) => {
    const page = index + 1
    const recorded = recordedPage(page)
    const body: FakePageBody = {
      page,
      results: recorded.results.map((movie) => ({ ...movie })),
      total_pages: recorded.total_pages,
      total_results: recorded.total_results
    }
    if (page === 3) return shiftPage3(body)
    if (page === 5) return nullDateOnPage5(body)
    return body
  })

interface ExpectedTable {
  readonly rows: ReadonlyArray<{ readonly year: string; readonly vote_average: string; readonly quantity: string }>
  readonly movies: number
  readonly duplicates: number
  readonly undated: number
}

/** Parses a decimal such as `8.45` into integer thousandths (8450) from its digits, without float arithmetic. */
const thousandths = (value: unknown): bigint => {
  const [whole = "0", fraction = ""] = String(value).split(".")
  return BigInt(whole) * 1000n + BigInt(fraction.padEnd(3, "0").slice(0, 3))
}

/**
 * Computes the one-decimal yearly table with BigInt arithmetic: the first copy of each id in page order, years
 * from valid `YYYY-MM-DD` dates, and means rounded half up. A whole mean is written without decimals ("7"), as
 * the webhook writes it.
 */
const expectedTable = (pages: ReadonlyArray<FakePageBody>): ExpectedTable => {
  const seen = new Set<unknown>()
  const years = new Map<string, { sum: bigint; count: bigint }>()
  let duplicates = 0
  let undated = 0
  for (const page of pages) {
    for (const movie of page.results) {
      if (seen.has(movie["id"])) {
        duplicates++
        continue
      }
      seen.add(movie["id"])
      const date = movie["release_date"]
      const valid = typeof date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(Date.parse(date))
      if (!valid) {
        undated++
        continue
      }
      const year = date.slice(0, 4)
      const entry = years.get(year) ?? { sum: 0n, count: 0n }
      years.set(year, { sum: entry.sum + thousandths(movie["vote_average"]), count: entry.count + 1n })
    }
  }
  const rows = [...years.entries()]
    .sort(([left], [right]) => left.localeCompare(right))
    .map(([year, { sum, count }]) => {
      // Tenths, rounded half up: floor((sum / count / 100) + 1/2).
      const tenths = (2n * sum + 100n * count) / (200n * count)
      const text = tenths % 10n === 0n ? `${tenths / 10n}` : `${tenths / 10n}.${tenths % 10n}`
      return { year, vote_average: text, quantity: String(count) }
    })
  const movies = rows.reduce((total, row) => total + Number(row.quantity), 0)
  return { rows, movies, duplicates, undated }
}

interface JobRunRow {
  readonly run_id: string
  readonly outcome: string
  readonly pages_requested: number
  readonly pages_read: number
  readonly movies: number
  readonly duplicates: number
  readonly undated: number
  readonly years: number
  readonly delivery_id: string | null
  readonly failure_reason: string | null
}

const query = <A extends object>(url: Redacted.Redacted<string>, statement: string, ...parameters: Array<string>) =>
  withClient(
    url,
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(statement, parameters))
  ).pipe(Effect.orDie)

const hostEnvironment = (fake: FakeTmdb, database: Redacted.Redacted<string>, port: number) => ({
  PORT: String(port),
  HOST: "127.0.0.1",
  DATABASE_URL: Redacted.value(database),
  TMDB_BASE_URL: fake.url,
  TMDB_API_KEY: "endtoendtestkey",
  WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  LOG_FORMAT: "json"
})

// Real clocks: the host runs in another process, so the test waits in real time.
layer(testDatabaseLayer("end_to_end"), { timeout: 60_000, excludeTestServices: true })("host end to end", (it) => {
  const expected = expectedTable(servedPages())

  it.effect(
    "one cycle stores the expected table",
    () =>
      Effect.gen(function* () {
        assert.strictEqual(expected.duplicates, 1)
        assert.strictEqual(expected.undated, 1)

        const database = yield* TestDatabase
        const fake = yield* fakeTmdbScoped()
        setFaults(fake)
        const port = yield* freePort
        const host = yield* spawnCli(["start"], hostEnvironment(fake, database.url, port))

        const runs = yield* pollJson<ReadonlyArray<{ outcome: string }>>(
          host,
          `http://127.0.0.1:${port}/runs`,
          (status, body) =>
            status === 200 && Array.isArray(body) && body.some((run: { outcome: string }) => run.outcome !== "running"),
          60_000
        )
        assert.strictEqual(runs[0]?.outcome, "succeeded")
        assert.strictEqual(fake.requestsFor(4).length, 2, "page 4 was read again after its 429")
        assert.strictEqual(fake.requestsFor(6).length, 2, "page 6 was read again after its 502")

        const jobRuns = yield* query<JobRunRow>(database.url, "SELECT * FROM job_runs")
        assert.strictEqual(jobRuns.length, 1)
        const run = jobRuns[0]!
        assert.strictEqual(run.outcome, "succeeded")
        assert.strictEqual(run.pages_requested, 10)
        assert.strictEqual(run.pages_read, 10)
        assert.strictEqual(run.movies, expected.movies)
        assert.strictEqual(run.duplicates, 1)
        assert.strictEqual(run.undated, 1)
        assert.strictEqual(run.years, expected.rows.length)
        assert.strictEqual(run.failure_reason, null)
        assert.isNotNull(run.delivery_id)

        const stored = yield* query<{ year: number; vote_average: string; quantity: number }>(
          database.url,
          "SELECT year, vote_average::text AS vote_average, quantity FROM yearly_ratings WHERE delivery_id = $1 ORDER BY year",
          run.delivery_id!
        )
        assert.deepStrictEqual(
          stored.map((row) => ({
            year: String(row.year),
            vote_average: String(Number(row.vote_average)),
            quantity: String(row.quantity)
          })),
          expected.rows
        )

        const latest = yield* pollJson<{ delivery_id: string; ratings: unknown }>(
          host,
          `http://127.0.0.1:${port}/yearly-ratings`,
          (status) => status === 200,
          5_000
        )
        assert.strictEqual(latest.delivery_id, run.delivery_id)
        assert.deepStrictEqual(latest.ratings, expected.rows)

        host.child.kill("SIGTERM")
        const exit = yield* awaitExit(host, 30_000)
        assert.strictEqual(exit.code, 0)
      }),
    90_000
  )

  it.effect(
    "once --json prints exactly the expected array",
    () =>
      Effect.gen(function* () {
        const database = yield* TestDatabase
        const fake = yield* fakeTmdbScoped()
        setFaults(fake)
        const port = yield* freePort
        const once = yield* spawnCli(["once", "--json"], hostEnvironment(fake, database.url, port))
        const exit = yield* awaitExit(once, 60_000)
        assert.strictEqual(exit.code, 0, once.stderr())
        assert.strictEqual(once.stdout(), `${JSON.stringify(expected.rows)}\n`)
        assert.strictEqual(fake.requestsFor(4).length, 2)
        assert.strictEqual(fake.requestsFor(6).length, 2)
      }),
    90_000
  )
})

describe("once failures", () => {
  it.live(
    "failed run exits 1 with one line",
    () =>
      Effect.gen(function* () {
        const fake = yield* fakeTmdbScoped()
        fake.setFault(7, { _tag: "Status", status: 404, body: { status_code: 34 } })
        const port = yield* freePort
        const database = yield* TestDatabase
        const once = yield* spawnCli(["once", "--json"], hostEnvironment(fake, database.url, port))
        const exit = yield* awaitExit(once, 60_000)
        assert.strictEqual(exit.code, 1)
        assert.strictEqual(once.stdout(), "")
        const lastLine = once.stderr().trimEnd().split("\n").at(-1) ?? ""
        assert.match(lastLine, /^Run failed at page 7: /)
      }).pipe(Effect.provide(testDatabaseLayer("once_failure"))),
    90_000
  )
})
