import { assert, it, layer } from "@effect/vitest"
import { aggregate, RunReport, type StoredDelivery } from "@tmdb-yearly/core"
import { Context, DateTime, Effect, Layer, Option, Redacted } from "effect"
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import type { Page } from "playwright-core"
import {
  Chromium,
  CHROMIUM_EXECUTABLE,
  CHROMIUM_NOT_FOUND_MESSAGE,
  saveScreenshot,
  visitPage
} from "../../../testing/browser.ts"
import { PAGES_1_TO_10_TABLE } from "../../../testing/goldenTable.ts"
import { type RunningHost, startHostAfterFirstRun } from "../../../testing/hostProcess.ts"
import { TestDatabase, testDatabaseLayer } from "../../../testing/postgres.ts"
import { recordedPages } from "../../../testing/topRatedFixture.ts"
import { renderDashboard } from "../src/Dashboard.ts"

const table = aggregate(recordedPages(1, 10))

const delivery: StoredDelivery = {
  id: "msg_2kxYb3Qd9rT0pages1to10",
  receivedAt: DateTime.makeUnsafe("2026-02-17T10:00:04.512Z"),
  rows: table.rows
}

const succeededRun = new RunReport({
  runId: "7d0c6f1e-3b1a-4c55-9f0e-2a8b51c4d6e1",
  startedAt: DateTime.makeUnsafe("2026-02-17T10:00:00.000Z"),
  finishedAt: DateTime.makeUnsafe("2026-02-17T10:00:04.620Z"),
  pagesRequested: 10,
  pagesRead: 10,
  movies: table.movies,
  duplicates: table.duplicates,
  undated: table.undated,
  years: table.years,
  deliveryId: delivery.id,
  outcome: "succeeded",
  failure: null
})

const failedRun = new RunReport({
  runId: "1f9a2c3d-8e7b-4a6c-b5d4-0c3e2f1a9b8d",
  startedAt: DateTime.makeUnsafe("2026-02-17T09:30:00.000Z"),
  finishedAt: DateTime.makeUnsafe("2026-02-17T09:30:12.250Z"),
  pagesRequested: 10,
  pagesRead: 6,
  movies: 0,
  duplicates: 0,
  undated: 0,
  years: 0,
  deliveryId: null,
  outcome: "failed",
  failure: { page: 7, reason: "TMDB responded with HTTP 503 after 4 attempts" }
})

const pages: Record<string, string> = {
  "/": renderDashboard({
    latest: Option.some(delivery),
    runs: [succeededRun, failedRun],
    nextRunAt: DateTime.makeUnsafe("2026-02-17T10:30:04.620Z")
  }),
  "/empty": renderDashboard({ latest: Option.none(), runs: [] })
}

/** Serves the rendered pages from a loopback server on a free port and returns its base URL. */
const servePages = Effect.acquireRelease(
  Effect.callback<ReturnType<typeof createServer>>((resume) => {
    const server = createServer((request, response) => {
      const body = pages[request.url ?? ""]
      if (body === undefined) {
        response.writeHead(404, { "content-type": "text/plain" }).end("not found")
        return
      }
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body)
    })
    server.listen(0, "127.0.0.1", () => {
      resume(Effect.succeed(server))
    })
  }),
  // Chromium keeps idle keep-alive connections open, and close() waits for them unless they are dropped.
  (server) =>
    Effect.callback<void>((resume) => {
      server.close(() => resume(Effect.void))
      server.closeAllConnections()
    })
).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))

const countOf = (page: Page, selector: string) => Effect.promise(() => page.locator(selector).count())

// When the shared browser fails to launch, vitest marks the tests of the block as skipped and fails only the
// suite, which a count of failed tests misses. This test fails on its own in that case.
it("finds Debian's Chromium", () => {
  assert.isTrue(existsSync(CHROMIUM_EXECUTABLE), CHROMIUM_NOT_FOUND_MESSAGE)
})

layer(Chromium.layer, { timeout: "60 seconds", excludeTestServices: true })("Dashboard in Chromium", (it) => {
  it.effect("loads without errors", () =>
    Effect.gen(function* () {
      const baseUrl = yield* servePages
      const { page, problems, requests } = yield* visitPage(`${baseUrl}/`)
      assert.strictEqual(yield* Effect.promise(() => page.title()), "tmdb-yearly dashboard")
      assert.strictEqual(yield* Effect.promise(() => page.getAttribute("html", "lang")), "en")
      assert.deepStrictEqual(problems, [])
      assert.deepStrictEqual(requests, [`${baseUrl}/`])
    })
  )

  it.effect("draws one mark per year", () =>
    Effect.gen(function* () {
      const baseUrl = yield* servePages
      const { page } = yield* visitPage(`${baseUrl}/`)
      const expectedYears = PAGES_1_TO_10_TABLE.map((row) => row.year)
      assert.strictEqual(expectedYears.length, 72)
      assert.strictEqual(yield* countOf(page, "svg.chart .mark-average"), 72)
      assert.strictEqual(yield* countOf(page, "svg.chart .mark-quantity"), 72)
      const averageYears = yield* Effect.promise(() =>
        page.locator("svg.chart .mark-average").evaluateAll((marks) => marks.map((mark) => mark.dataset["year"]))
      )
      const quantityYears = yield* Effect.promise(() =>
        page.locator("svg.chart .mark-quantity").evaluateAll((marks) => marks.map((mark) => mark.dataset["year"]))
      )
      assert.deepStrictEqual(averageYears, expectedYears)
      assert.deepStrictEqual(quantityYears, expectedYears)
    })
  )

  it.effect("lays out year labels apart", () =>
    Effect.gen(function* () {
      const baseUrl = yield* servePages
      const { page } = yield* visitPage(`${baseUrl}/`)
      const boxes = yield* Effect.promise(() =>
        page.locator("svg.chart .axis-x .tick-label").evaluateAll((labels) =>
          labels.map((label) => {
            const box = label.getBoundingClientRect()
            return { text: label.textContent?.trim() ?? "", left: box.left, right: box.right, width: box.width }
          })
        )
      )
      assert.deepStrictEqual(
        boxes.map((box) => box.text),
        ["1930", "1940", "1950", "1960", "1970", "1980", "1990", "2000", "2010", "2020"]
      )
      for (const [index, box] of boxes.entries()) {
        assert.isAbove(box.width, 0, `label ${box.text} is not rendered`)
        const next = boxes[index + 1]
        if (next !== undefined) assert.isBelow(box.right, next.left, `label ${box.text} overlaps ${next.text}`)
      }
    })
  )

  it.effect("lists one table row per year", () =>
    Effect.gen(function* () {
      const baseUrl = yield* servePages
      const { page } = yield* visitPage(`${baseUrl}/`)
      const rows = yield* Effect.promise(() =>
        page
          .locator("table.yearly tbody tr")
          .evaluateAll((rows) =>
            rows.map((row) => Array.from(row.querySelectorAll("th, td"), (cell) => cell.textContent?.trim() ?? ""))
          )
      )
      assert.deepStrictEqual(
        rows,
        PAGES_1_TO_10_TABLE.map((row) => [row.year, row.vote_average, row.quantity])
      )
    })
  )

  it.effect("lists runs with outcomes", () =>
    Effect.gen(function* () {
      const baseUrl = yield* servePages
      const { page } = yield* visitPage(`${baseUrl}/`)
      const rows = yield* Effect.promise(() =>
        page
          .locator("table.runs tbody.run")
          .evaluateAll((rows) =>
            rows.map((row) =>
              Array.from(row.querySelectorAll("th, td"), (cell) => cell.textContent?.replace(/\s+/g, " ").trim() ?? "")
            )
          )
      )
      assert.deepStrictEqual(rows, [
        [
          "2026-02-17 10:00:00 UTC",
          "succeeded",
          "4.6 s",
          "10 of 10",
          "200",
          "0",
          "0",
          "72",
          "",
          "Run ID 7d0c6f1e-3b1a-4c55-9f0e-2a8b51c4d6e1, delivery ID msg_2kxYb3Qd9rT0pages1to10"
        ],
        [
          "2026-02-17 09:30:00 UTC",
          "failed",
          "12.3 s",
          "6 of 10",
          "0",
          "0",
          "0",
          "0",
          "page 7: TMDB responded with HTTP 503 after 4 attempts",
          "Run ID 1f9a2c3d-8e7b-4a6c-b5d4-0c3e2f1a9b8d"
        ]
      ])
    })
  )

  it.effect("shows the empty state", () =>
    Effect.gen(function* () {
      const baseUrl = yield* servePages
      const { page, problems } = yield* visitPage(`${baseUrl}/empty`)
      const heading = yield* Effect.promise(() => page.locator("#empty-heading").textContent())
      const text = yield* Effect.promise(() => page.locator("section.empty").innerText())
      assert.strictEqual(heading, "No delivery yet")
      assert.include(text, "The first run starts when the service starts")
      assert.include(text, "recorded snapshot")
      assert.include(text, "Reload this page in a few seconds.")
      assert.strictEqual(yield* countOf(page, "svg.chart"), 0)
      assert.strictEqual(yield* countOf(page, "table.yearly"), 0)
      assert.deepStrictEqual(problems, [])
      yield* saveScreenshot(page, "dashboard-empty.png")
    })
  )

  it.effect("saves a screenshot", () =>
    Effect.gen(function* () {
      const baseUrl = yield* servePages
      const { page } = yield* visitPage(`${baseUrl}/`)
      const path = yield* saveScreenshot(page, "dashboard.png")
      const png = yield* Effect.promise(() => readFile(path))
      assert.deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
      assert.isAbove(png.length, 10_000)
    })
  )
})

/**
 * The host as `npm start` runs it, with the recorded snapshot and no TMDB credential, on a new test database,
 * once its first run has stored the pages 1-10 table.
 */
class DefaultHost extends Context.Service<DefaultHost, RunningHost>()("test/DefaultHost") {
  static readonly layer = Layer.effect(
    DefaultHost,
    Effect.gen(function* () {
      const database = yield* TestDatabase
      return yield* startHostAfterFirstRun({ DATABASE_URL: Redacted.value(database.url) })
    })
  ).pipe(Layer.provide(testDatabaseLayer("dashboard_host")))
}

layer(Layer.mergeAll(Chromium.layer, DefaultHost.layer), { timeout: "90 seconds", excludeTestServices: true })(
  "Dashboard of a running host",
  (it) => {
    it.effect("loads without console errors", () =>
      Effect.gen(function* () {
        const host = yield* DefaultHost
        const { page, problems, requests } = yield* visitPage(`${host.baseUrl}/`)
        assert.strictEqual(yield* Effect.promise(() => page.title()), "tmdb-yearly dashboard")
        assert.deepStrictEqual(problems, [])
        assert.deepStrictEqual(requests, [`${host.baseUrl}/`])
      })
    )

    it.effect("has one mark per year of the latest table", () =>
      Effect.gen(function* () {
        const host = yield* DefaultHost
        const latest = yield* Effect.promise(
          async () =>
            (await (await fetch(`${host.baseUrl}/yearly-ratings`)).json()) as {
              readonly delivery_id: string
              readonly ratings: ReadonlyArray<{ readonly year: string }>
            }
        )
        const years = latest.ratings.map((row) => row.year)
        assert.deepStrictEqual(latest.ratings, PAGES_1_TO_10_TABLE)
        assert.strictEqual(years.length, 72)

        const { page } = yield* visitPage(`${host.baseUrl}/`)
        const yearsOf = (selector: string) =>
          Effect.promise(() =>
            page.locator(selector).evaluateAll((marks) => marks.map((mark) => (mark as SVGElement).dataset["year"]))
          )
        assert.deepStrictEqual(yield* yearsOf("svg.chart .mark-average"), years)
        assert.deepStrictEqual(yield* yearsOf("svg.chart .mark-quantity"), years)
        assert.strictEqual(yield* countOf(page, "table.yearly tbody tr"), 72)
        const deliveryId = yield* Effect.promise(() => page.locator(".delivery-id").textContent())
        assert.strictEqual(deliveryId, latest.delivery_id)
        assert.strictEqual(yield* countOf(page, 'table.runs tbody.run[data-outcome="succeeded"]'), 1)
      })
    )

    it.effect("API reference loads only from the server", () =>
      Effect.gen(function* () {
        const host = yield* DefaultHost
        const { page, problems, requests } = yield* visitPage(`${host.baseUrl}/docs`)
        assert.strictEqual(yield* Effect.promise(() => page.title()), "tmdb-yearly")
        assert.deepStrictEqual(problems, [])
        assert.deepStrictEqual(
          requests.filter((url) => !url.startsWith(`${host.baseUrl}/`)),
          []
        )
        assert.strictEqual(requests[0], `${host.baseUrl}/docs`)
      })
    )

    it.effect("saves a screenshot", () =>
      Effect.gen(function* () {
        const host = yield* DefaultHost
        const { page } = yield* visitPage(`${host.baseUrl}/`)
        const path = yield* saveScreenshot(page, "dashboard-host.png")
        const png = yield* Effect.promise(() => readFile(path))
        assert.deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
        assert.isAbove(png.length, 10_000)
      })
    )
  }
)
