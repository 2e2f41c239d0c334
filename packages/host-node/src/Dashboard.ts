import type { RunReport, StoredDelivery, YearlyRating } from "@tmdb-yearly/core"
import { DateTime, Option } from "effect"
import { makeAverageFormatter, renderYearlyChart } from "./DashboardChart.ts"
import { Html, html } from "./DashboardHtml.ts"

/** Data for the dashboard page. */
export interface DashboardData {
  /** The latest stored delivery, or none before the first one arrives. */
  readonly latest: Option.Option<StoredDelivery>
  /** Run reports, newest first. The page lists all of them, so the caller picks how many. */
  readonly runs: ReadonlyArray<RunReport>
  /** Start time of the next scheduled run, when the scheduler has one. */
  readonly nextRunAt?: DateTime.Utc | undefined
  /**
   * Decimals of the published average (`VOTE_AVERAGE_DECIMALS`). Without it, averages are printed with the most
   * decimals that any row has.
   */
  readonly voteAverageDecimals?: number | undefined
}

// The page has no scripts, fonts or images to load: all styles are inline and the favicon is an empty data
// URL, so the browser makes no request besides the page itself.
const STYLE = `
:root {
  color-scheme: light dark;
  --text: #1d2430;
  --muted: #5b6472;
  --background: #f6f7f9;
  --surface: #ffffff;
  --border: #d8dce3;
  --grid: #e8ebf0;
  --average: #1f5fbf;
  --quantity: #e3a33b;
  --succeeded: #1e7a3c;
  --failed: #b3261e;
  --running: #8a5a00;
}
@media (prefers-color-scheme: dark) {
  :root {
    --text: #e6e9ef;
    --muted: #a3abb8;
    --background: #14171c;
    --surface: #1d2128;
    --border: #353b45;
    --grid: #2a2f37;
    --average: #7fb0ff;
    --quantity: #c98a2a;
    --succeeded: #6fd08c;
    --failed: #ff8a80;
    --running: #f0c060;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--text);
  background: var(--background);
}
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.2rem; margin: 0 0 12px; }
header p, footer, .muted { color: var(--muted); }
header p { margin: 4px 0 0; }
section {
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: 8px;
  padding: 16px 20px;
  margin: 20px 0;
}
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
figure { margin: 0 0 16px; }
figcaption { color: var(--muted); font-size: 0.9rem; margin-top: 4px; }
.legend { display: flex; gap: 20px; margin: 0 0 8px; padding: 0; list-style: none; font-size: 0.9rem; }
.legend li::before { content: ""; display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
.legend .legend-average::before { background: var(--average); border-radius: 50%; }
.legend .legend-quantity::before { background: var(--quantity); }
.chart-scroll { overflow-x: auto; }
svg.chart { display: block; width: 100%; min-width: 640px; height: auto; font-size: 12px; }
svg.chart text { fill: var(--muted); }
svg.chart .axis-label { fill: var(--text); font-size: 13px; }
svg.chart .axis-line, svg.chart .tick { stroke: var(--muted); stroke-width: 1; }
svg.chart .grid { stroke: var(--grid); stroke-width: 1; }
svg.chart .average-line { fill: none; stroke: var(--average); stroke-width: 1.5; stroke-opacity: 0.6; }
svg.chart .mark-average { fill: var(--average); stroke: var(--surface); stroke-width: 1; }
svg.chart .mark-quantity { fill: var(--quantity); }
.table-scroll { overflow-x: auto; }
.yearly-scroll { max-height: 24rem; overflow-y: auto; width: fit-content; max-width: 100%; border: 1px solid var(--border); border-radius: 6px; }
.yearly-scroll:focus { outline: 2px solid var(--average); outline-offset: 2px; }
.yearly-scroll thead th { position: sticky; top: 0; background: var(--surface); }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 8px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--border); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--border); vertical-align: bottom; }
table.runs thead th { white-space: nowrap; }
table.runs tbody th, table.runs td.number { font-weight: normal; white-space: nowrap; }
table.runs tr.run-counts > * { border-bottom: none; padding-top: 8px; }
table.runs tr.run-ids td { color: var(--muted); font-size: 0.8rem; padding-bottom: 8px; }
td.failure { min-width: 14em; }
td.number, th.number { text-align: right; }
table.yearly { width: auto; min-width: 380px; }
table.yearly caption { padding: 8px 10px; }
.outcome { font-weight: 600; }
.outcome-succeeded { color: var(--succeeded); }
.outcome-failed { color: var(--failed); }
.outcome-running { color: var(--running); }
.empty p { margin: 0 0 8px; max-width: 70ch; }
footer { font-size: 0.85rem; padding-bottom: 24px; }
`

/** Formats a time as `2026-02-17 10:00:00 UTC` inside a `<time>` element that carries the ISO form. */
const renderTime = (time: DateTime.Utc): Html => {
  const iso = DateTime.formatIso(time)
  const readable = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`
  return html`<time datetime="${iso}">${readable}</time>`
}

const formatDuration = (run: RunReport): string => {
  if (run.finishedAt === null) return "running"
  const millis = DateTime.toEpochMillis(run.finishedAt) - DateTime.toEpochMillis(run.startedAt)
  return millis < 60_000 ? `${(millis / 1000).toFixed(1)} s` : `${(millis / 60_000).toFixed(1)} min`
}

const formatFailure = (run: RunReport): string => {
  if (run.failure === null) return ""
  return run.failure.page === null ? run.failure.reason : `page ${run.failure.page}: ${run.failure.reason}`
}

const totalMovies = (rows: ReadonlyArray<YearlyRating>): number => rows.reduce((sum, row) => sum + row.quantity, 0)

const renderLatest = (delivery: StoredDelivery, nextRunAt: DateTime.Utc | undefined): Html =>
  html`<section aria-labelledby="latest-heading">
    <h2 id="latest-heading">Latest delivery</h2>
    <dl class="facts">
      <dt>Delivery ID</dt>
      <dd><code class="delivery-id">${delivery.id}</code></dd>
      <dt>Received</dt>
      <dd class="received-at">${renderTime(delivery.receivedAt)}</dd>
      <dt>Years</dt>
      <dd>${delivery.rows.length}</dd>
      <dt>Movies</dt>
      <dd>${totalMovies(delivery.rows)}</dd>
      ${
        nextRunAt === undefined
          ? null
          : html`<dt>Next run</dt>
              <dd>${renderTime(nextRunAt)}</dd>`
      }
    </dl>
  </section> `

const renderYearlyTable = (rows: ReadonlyArray<YearlyRating>, voteAverageDecimals: number | undefined): Html => {
  const formatAverage = makeAverageFormatter(rows, voteAverageDecimals)
  return html`<table class="yearly">
    <caption>
      Average vote and movies per release year
    </caption>
    <thead>
      <tr>
        <th scope="col">Year</th>
        <th scope="col" class="number">Average vote</th>
        <th scope="col" class="number">Movies</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${row.year}</th>
            <td class="number">${formatAverage(row.voteAverage)}</td>
            <td class="number">${row.quantity}</td>
          </tr> `
      )}
    </tbody>
  </table>`
}

const renderRatings = (delivery: StoredDelivery, voteAverageDecimals: number | undefined): Html => {
  if (delivery.rows.length === 0) {
    return html`<section aria-labelledby="ratings-heading">
      <h2 id="ratings-heading">Yearly ratings</h2>
      <p class="muted">The latest delivery contains no dated movies, so there is nothing to plot.</p>
    </section> `
  }
  return html`<section aria-labelledby="ratings-heading">
    <h2 id="ratings-heading">Yearly ratings</h2>
    <figure>
      <ul class="legend" aria-hidden="true">
        <li class="legend-average">Average vote (top panel)</li>
        <li class="legend-quantity">Movies (bottom panel)</li>
      </ul>
      <div class="chart-scroll" role="region" aria-label="Chart of yearly ratings" tabindex="0">
        ${renderYearlyChart(delivery.rows, voteAverageDecimals)}
      </div>
      <figcaption>
        The average vote axis spans the whole votes around the data and does not start at zero. Hover over a mark to see
        its values.
      </figcaption>
    </figure>
    <div class="yearly-scroll" role="region" aria-label="Yearly ratings table" tabindex="0">
      ${renderYearlyTable(delivery.rows, voteAverageDecimals)}
    </div>
  </section> `
}

/** Says what to expect next: a reload soon while the first run may still publish, else the next run's time. */
const renderEmptyStateNext = (lastRun: RunReport | undefined, nextRunAt: DateTime.Utc | undefined): Html => {
  const nextRun = nextRunAt === undefined ? null : html` The next run is scheduled for ${renderTime(nextRunAt)}.`
  if (lastRun?.outcome === "failed") {
    return html`<p>The last run failed, so it published no table. Its reason is under Recent runs below.${nextRun}</p>`
  }
  return html`<p>Reload this page in a few seconds.${nextRun}</p>`
}

const renderEmptyState = (lastRun: RunReport | undefined, nextRunAt: DateTime.Utc | undefined): Html =>
  html`<section class="empty" aria-labelledby="empty-heading">
    <h2 id="empty-heading">No delivery yet</h2>
    <p>
      The service has not stored a yearly table yet. The first run starts when the service starts: it reads the
      top-rated pages, computes the average vote and the number of movies per release year, and publishes the table to
      the webhook, which stores it.
    </p>
    <p>
      With the default settings (no TMDB credentials) the run reads the recorded snapshot of the top-rated list that
      ships with the service, so it needs no network and takes a few seconds.
    </p>
    ${renderEmptyStateNext(lastRun, nextRunAt)}
  </section> `

/** Renders one run as its own `<tbody>`: a row of counts, then a row with the run ID and delivery ID. */
const renderRun = (run: RunReport): Html =>
  html`<tbody class="run" data-outcome="${run.outcome}">
    <tr class="run-counts">
      <th scope="row">${renderTime(run.startedAt)}</th>
      <td><span class="outcome outcome-${run.outcome}">${run.outcome}</span></td>
      <td class="number">${formatDuration(run)}</td>
      <td class="number">${run.pagesRead} of ${run.pagesRequested}</td>
      <td class="number">${run.movies}</td>
      <td class="number">${run.duplicates}</td>
      <td class="number">${run.undated}</td>
      <td class="number">${run.years}</td>
      <td class="failure">${formatFailure(run)}</td>
    </tr>
    <tr class="run-ids">
      <td colspan="9">
        Run ID <code>${run.runId}</code>${
          run.deliveryId === null ? null : html`, delivery ID <code>${run.deliveryId}</code>`
        }
      </td>
    </tr>
  </tbody>`

const renderRuns = (runs: ReadonlyArray<RunReport>): Html => {
  if (runs.length === 0) {
    return html`<section aria-labelledby="runs-heading">
      <h2 id="runs-heading">Recent runs</h2>
      <p class="muted">No runs recorded yet.</p>
    </section> `
  }
  return html`<section aria-labelledby="runs-heading">
    <h2 id="runs-heading">Recent runs</h2>
    <div class="table-scroll">
      <table class="runs">
        <caption>
          ${runs.length === 1 ? "The last run" : `The last ${runs.length} runs, newest first`}
        </caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Outcome</th>
            <th scope="col" class="number">Duration</th>
            <th scope="col" class="number">Pages read</th>
            <th scope="col" class="number">Movies</th>
            <th scope="col" class="number">Duplicates</th>
            <th scope="col" class="number">Undated</th>
            <th scope="col" class="number">Years</th>
            <th scope="col">Failure</th>
          </tr>
        </thead>
        ${runs.map(renderRun)}
      </table>
    </div>
  </section> `
}

/** Wraps the content of `<main>` in the complete HTML5 document that every dashboard page shares. */
const renderPage = (content: Html): string =>
  html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>tmdb-yearly dashboard</title>
        <link rel="icon" href="data:," />
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <h1>tmdb-yearly</h1>
          <p>Average vote and number of movies per release year in TMDB's top-rated list</p>
        </header>
        <main>${content}</main>
        <footer>
          <p>This product uses the TMDB API but is not endorsed or certified by TMDB.</p>
        </footer>
      </body>
    </html> `.markup

/**
 * Renders the dashboard as a complete HTML5 document: the latest delivery with an SVG chart and a table of
 * its yearly rows, or an explanation while there is none, and the given run reports. The page needs no
 * JavaScript and loads nothing else. Every interpolated string is HTML-escaped.
 */
export const renderDashboard = (data: DashboardData): string => {
  const latest = Option.getOrUndefined(data.latest)
  return renderPage(
    html`${
      latest === undefined
        ? renderEmptyState(data.runs[0], data.nextRunAt)
        : [renderLatest(latest, data.nextRunAt), renderRatings(latest, data.voteAverageDecimals)]
    }
    ${renderRuns(data.runs)}`
  )
}

/** Renders the page served while the database cannot be read, with the time to wait before a reload. */
export const renderDashboardUnavailable = (retryAfterSeconds: number): string =>
  renderPage(
    html`<section class="empty" aria-labelledby="unavailable-heading">
      <h2 id="unavailable-heading">Database unavailable</h2>
      <p>
        The dashboard could not read the stored tables and runs, because the database did not respond. Reload this page
        in ${retryAfterSeconds} seconds.
      </p>
    </section>`
  )
