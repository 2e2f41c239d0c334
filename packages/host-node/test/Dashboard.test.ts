import { assert, describe, it } from "@effect/vitest"
import { aggregate, RunReport, type StoredDelivery, type YearlyRating } from "@tmdb-yearly/core"
import { DateTime, Option } from "effect"
import { recordedPages } from "../../../testing/topRatedFixture.ts"
import { renderDashboard } from "../src/Dashboard.ts"
import { renderYearlyChart } from "../src/DashboardChart.ts"
import { escapeHtml, html } from "../src/DashboardHtml.ts"

const receivedAt = DateTime.makeUnsafe("2026-02-17T10:00:04.512Z")

const deliveryOf = (rows: ReadonlyArray<YearlyRating>, id = "msg_test"): StoredDelivery => ({ id, receivedAt, rows })

const makeRun = (fields: Partial<ConstructorParameters<typeof RunReport>[0]>): RunReport =>
  new RunReport({
    runId: "run-1",
    startedAt: DateTime.makeUnsafe("2026-02-17T10:00:00.000Z"),
    finishedAt: DateTime.makeUnsafe("2026-02-17T10:00:04.620Z"),
    pagesRequested: 10,
    pagesRead: 10,
    movies: 200,
    duplicates: 3,
    undated: 1,
    years: 72,
    deliveryId: "msg_test",
    outcome: "succeeded",
    failure: null,
    ...fields
  })

/** Years of the chart marks with class `className`, in document order. */
const markYears = (markup: string, className: string): Array<number> =>
  Array.from(markup.matchAll(new RegExp(`class="${className}"\\s+data-year="(\\d+)"`, "g")), (match) =>
    Number(match[1])
  )

/** Text of the x-axis year labels, in document order. */
const yearLabels = (markup: string): Array<string> =>
  Array.from(markup.matchAll(/<text class="tick-label"[^>]*text-anchor="middle"\s*>(\d{4})<\/text/g), (match) =>
    String(match[1])
  )

/** Text of the y-axis tick labels of both panels, in document order. */
const valueTickLabels = (markup: string): Array<string> =>
  Array.from(markup.matchAll(/text-anchor="end"[^>]*>([^<]+)<\/text/g), (match) => String(match[1]).trim())

/** Text content of a markup fragment: tags become spaces, and runs of whitespace collapse to one space. */
const textOf = (markup: string): string =>
  markup
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim()

/** The `<tbody class="run">` groups of the runs table, as text. */
const runTexts = (page: string): Array<string> =>
  Array.from(page.matchAll(/<tbody class="run"[\s\S]*?<\/tbody>/g), (match) => textOf(match[0]))

const fullList = aggregate(recordedPages(1, 500)).rows
const pages1To10 = aggregate(recordedPages(1, 10)).rows

describe("escapeHtml", () => {
  it("escapes markup characters", () => {
    assert.strictEqual(
      escapeHtml(`<a href="x">Tom & Jerry's</a>`),
      "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
    )
  })

  it("keeps plain text", () => {
    assert.strictEqual(escapeHtml("Delivery msg_1, 8.3 / 10"), "Delivery msg_1, 8.3 / 10")
  })
})

describe("html template", () => {
  it("escapes strings but not fragments", () => {
    const fragment = html`<b>${"<i>"}</b>`
    assert.strictEqual(html`<p>${fragment}${"&"}</p>`.markup, "<p><b>&lt;i&gt;</b>&amp;</p>")
  })

  it("renders arrays, numbers and null", () => {
    assert.strictEqual(html`${[html`<b>x</b>`, "<", 7]}${null}${undefined}`.markup, "<b>x</b>&lt;7")
  })
})

describe("renderDashboard", () => {
  it("escapes every interpolated string", () => {
    const hostile = `<script>alert("x")</script>&'`
    const page = renderDashboard({
      latest: Option.some(deliveryOf(pages1To10, hostile)),
      runs: [
        makeRun({
          runId: `"><img src=x onerror=alert(1)>`,
          deliveryId: hostile,
          outcome: "failed",
          failure: { page: 3, reason: "</td></tr></table><script>alert(2)</script>" }
        })
      ]
    })
    assert.notInclude(page, "<script")
    assert.notInclude(page, "<img")
    assert.notInclude(page, "</table><script")
    assert.include(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;")
    assert.include(page, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;")
    assert.include(page, "page 3: &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(2)&lt;/script&gt;")
  })

  it("is a complete accessible document", () => {
    const page = renderDashboard({ latest: Option.some(deliveryOf(pages1To10)), runs: [makeRun({})] })
    assert.isTrue(page.startsWith("<!doctype html>"))
    assert.include(page, `<html lang="en">`)
    assert.include(page, "<title>tmdb-yearly dashboard</title>")
    assert.include(page, `role="img"`)
    assert.include(page, `aria-labelledby="chart-title"`)
    assert.include(page, `<title id="chart-title">Average vote and number of movies per release year</title>`)
    assert.include(page, `<desc id="chart-desc">`)
    assert.strictEqual(page.match(/<caption>/g)?.length, 2)
    assert.strictEqual(page.match(/<th scope="col"/g)?.length, 3 + 9)
    assert.strictEqual(page.match(/<th scope="row"/g)?.length, 72 + 1)
    assert.include(textOf(page), "Recent runs The last run Started")
    assert.include(page, "This product uses the TMDB API but is not endorsed or certified by TMDB.")
  })

  it("loads nothing from elsewhere", () => {
    const page = renderDashboard({ latest: Option.some(deliveryOf(pages1To10)), runs: [makeRun({})] })
    assert.notInclude(page, "<script")
    assert.notInclude(page, "src=")
    assert.notInclude(page, "@import")
    assert.notInclude(page, "url(")
    assert.deepStrictEqual(
      Array.from(page.matchAll(/href="([^"]*)"/g), (match) => match[1]),
      ["data:,"]
    )
    assert.deepStrictEqual(
      Array.from(page.matchAll(/https?:\/\/[^\s"]+/g), (match) => match[0]),
      ["http://www.w3.org/2000/svg"]
    )
  })

  it("shows the empty state", () => {
    const page = renderDashboard({ latest: Option.none(), runs: [] })
    const text = textOf(page)
    assert.include(text, "No delivery yet")
    assert.include(text, "The first run starts when the service starts")
    assert.include(text, "With the default settings (no TMDB credentials) the run reads the recorded snapshot")
    assert.include(text, "Reload this page in a few seconds.")
    assert.include(text, "No runs recorded yet.")
    assert.notInclude(page, "<svg")
    assert.notInclude(page, `class="yearly"`)
  })

  it("shows the next run in the empty state", () => {
    const page = renderDashboard({
      latest: Option.none(),
      runs: [],
      nextRunAt: DateTime.makeUnsafe("2026-02-17T10:30:00.000Z")
    })
    assert.include(
      page,
      `The next run is scheduled for <time datetime="2026-02-17T10:30:00.000Z">2026-02-17 10:30:00 UTC</time>.`
    )
  })

  it("empty state after a failed run", () => {
    const page = renderDashboard({
      latest: Option.none(),
      runs: [makeRun({ deliveryId: null, outcome: "failed", failure: { page: 7, reason: "HTTP 503" } })],
      nextRunAt: DateTime.makeUnsafe("2026-02-17T10:30:00.000Z")
    })
    const text = textOf(page)
    assert.include(
      text,
      "The last run failed, so it published no table. Its reason is under Recent runs below. The next run is scheduled for 2026-02-17 10:30:00 UTC ."
    )
    assert.notInclude(text, "Reload this page in a few seconds.")
  })

  it("shows the latest delivery", () => {
    const page = renderDashboard({ latest: Option.some(deliveryOf(pages1To10, "msg_latest")), runs: [] })
    const facts = textOf(page.slice(page.indexOf(`<dl class="facts">`), page.indexOf("</dl>")))
    assert.strictEqual(facts, "Delivery ID msg_latest Received 2026-02-17 10:00:04 UTC Years 72 Movies 200")
  })

  it("lists runs with outcome and counts", () => {
    const page = renderDashboard({
      latest: Option.none(),
      runs: [
        makeRun({
          runId: "run-3",
          startedAt: DateTime.makeUnsafe("2026-02-17T11:00:00.000Z"),
          finishedAt: null,
          pagesRead: 0,
          movies: 0,
          duplicates: 0,
          undated: 0,
          years: 0,
          deliveryId: null,
          outcome: "running"
        }),
        makeRun({ runId: "run-2" }),
        makeRun({
          runId: "run-1",
          startedAt: DateTime.makeUnsafe("2026-02-17T09:00:00.000Z"),
          finishedAt: DateTime.makeUnsafe("2026-02-17T09:01:30.000Z"),
          pagesRead: 6,
          movies: 0,
          duplicates: 0,
          undated: 0,
          years: 0,
          deliveryId: null,
          outcome: "failed",
          failure: { page: 7, reason: "TMDB responded with HTTP 503 after 4 attempts" }
        }),
        makeRun({
          runId: "run-0",
          startedAt: DateTime.makeUnsafe("2026-02-17T08:00:00.000Z"),
          finishedAt: DateTime.makeUnsafe("2026-02-17T08:00:01.000Z"),
          outcome: "failed",
          deliveryId: null,
          failure: { page: null, reason: "Webhook responded with HTTP 401" }
        })
      ]
    })
    assert.include(textOf(page), "Recent runs The last 4 runs, newest first")
    assert.deepStrictEqual(runTexts(page), [
      "2026-02-17 11:00:00 UTC running running 0 of 10 0 0 0 0 Run ID run-3",
      "2026-02-17 10:00:00 UTC succeeded 4.6 s 10 of 10 200 3 1 72 Run ID run-2 , delivery ID msg_test",
      "2026-02-17 09:00:00 UTC failed 1.5 min 6 of 10 0 0 0 0 page 7: TMDB responded with HTTP 503 after 4 attempts Run ID run-1",
      "2026-02-17 08:00:00 UTC failed 1.0 s 10 of 10 200 3 1 72 Webhook responded with HTTP 401 Run ID run-0"
    ])
    assert.include(page, `<span class="outcome outcome-failed">failed</span>`)
  })

  it("prints averages with the given decimals", () => {
    const rows = [
      { year: 1994, voteAverage: 8, quantity: 1 },
      { year: 1995, voteAverage: 8.25, quantity: 2 }
    ]
    const inferred = renderDashboard({ latest: Option.some(deliveryOf(rows)), runs: [] })
    const configured = renderDashboard({ latest: Option.some(deliveryOf(rows)), runs: [], voteAverageDecimals: 3 })
    assert.include(inferred, `<td class="number">8.00</td>`)
    assert.include(inferred, `<td class="number">8.25</td>`)
    assert.include(configured, `<td class="number">8.000</td>`)
    assert.include(configured, `<td class="number">8.250</td>`)
  })

  it("explains a delivery without rows", () => {
    const page = renderDashboard({ latest: Option.some(deliveryOf([])), runs: [] })
    assert.include(page, "The latest delivery contains no dated movies, so there is nothing to plot.")
    assert.notInclude(page, "<svg")
  })
})

describe("renderYearlyChart", () => {
  it("draws one mark per year for one year", () => {
    const chart = renderYearlyChart([{ year: 1994, voteAverage: 8.3, quantity: 12 }]).markup
    assert.deepStrictEqual(markYears(chart, "mark-average"), [1994])
    assert.deepStrictEqual(markYears(chart, "mark-quantity"), [1994])
    assert.deepStrictEqual(yearLabels(chart), ["1994"])
    assert.notInclude(chart, "<polyline")
    assert.include(
      chart,
      "Average vote as a point and number of movies as a bar for 1994: average vote 8.3, 12 movies."
    )
  })

  it("draws one mark per year for pages 1-10", () => {
    const years = pages1To10.map((row) => row.year)
    const chart = renderYearlyChart(pages1To10).markup
    assert.strictEqual(years.length, 72)
    assert.deepStrictEqual(markYears(chart, "mark-average"), years)
    assert.deepStrictEqual(markYears(chart, "mark-quantity"), years)
    assert.deepStrictEqual(valueTickLabels(chart), [
      ...["8.0", "8.2", "8.4", "8.6", "8.8", "9.0"],
      ...["0", "5", "10", "15", "20"]
    ])
  })

  it("labels every 10th year of the full list", () => {
    const chart = renderYearlyChart(fullList).markup
    assert.strictEqual(fullList.length, 113)
    assert.strictEqual(fullList[0]?.year, 1902)
    assert.strictEqual(fullList[fullList.length - 1]?.year, 2026)
    assert.deepStrictEqual(
      markYears(chart, "mark-average"),
      fullList.map((row) => row.year)
    )
    assert.deepStrictEqual(
      markYears(chart, "mark-quantity"),
      fullList.map((row) => row.year)
    )
    assert.deepStrictEqual(yearLabels(chart), [
      ...["1910", "1920", "1930", "1940", "1950", "1960"],
      ...["1970", "1980", "1990", "2000", "2010", "2020"]
    ])
  })

  it("breaks the line at missing years", () => {
    const rows = [
      { year: 1950, voteAverage: 7.25, quantity: 2 },
      { year: 1951, voteAverage: 7.5, quantity: 3 },
      { year: 1960, voteAverage: 10, quantity: 1 },
      { year: 1961, voteAverage: 9.125, quantity: 40 },
      { year: 1962, voteAverage: 9, quantity: 4 },
      { year: 1975, voteAverage: 6, quantity: 7 }
    ]
    const chart = renderYearlyChart(rows).markup
    const lines = Array.from(chart.matchAll(/points="([^"]*)"/g), (match) => String(match[1]).split(" ").length)
    assert.deepStrictEqual(lines, [2, 3])
    assert.deepStrictEqual(
      markYears(chart, "mark-average"),
      rows.map((row) => row.year)
    )
    assert.deepStrictEqual(
      markYears(chart, "mark-quantity"),
      rows.map((row) => row.year)
    )
    assert.deepStrictEqual(valueTickLabels(chart), [
      ...["5", "6", "7", "8", "9", "10"],
      ...["0", "10", "20", "30", "40"]
    ])
  })

  it("keeps bars of one movie visible", () => {
    const chart = renderYearlyChart([
      { year: 2000, voteAverage: 7, quantity: 1 },
      { year: 2001, voteAverage: 7, quantity: 400 }
    ]).markup
    const heights = Array.from(chart.matchAll(/class="mark-quantity"[^>]*height="([\d.]+)"/g), (match) =>
      Number(match[1])
    )
    assert.deepStrictEqual(heights, [1, 150])
  })
})
