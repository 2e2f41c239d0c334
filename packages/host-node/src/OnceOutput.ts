import type { PageProgress, RunReport } from "@tmdb-yearly/core"
import { DateTime } from "effect"

/** One row of the yearly table in the webhook's wire form, every value a string. */
export interface WireRow {
  readonly year: string
  readonly vote_average: string
  readonly quantity: string
}

const COLUMNS = [
  { title: "year", key: "year" },
  { title: "vote_average", key: "vote_average" },
  { title: "quantity", key: "quantity" }
] as const

/** Formats the rows as a text table with a header line, numbers right-aligned, one row per line. */
export const formatYearlyTable = (rows: ReadonlyArray<WireRow>): string => {
  const widths = COLUMNS.map((column) => Math.max(column.title.length, ...rows.map((row) => row[column.key].length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, index) => cell.padStart(widths[index] ?? 0)).join("  ")
  return [line(COLUMNS.map((column) => column.title)), ...rows.map((row) => line(COLUMNS.map((c) => row[c.key])))].join(
    "\n"
  )
}

/** Formats the one-line summary printed under the table: counts, pages, the delivery id and the duration. */
export const formatRunSummary = (report: RunReport): string => {
  const seconds =
    report.finishedAt === null
      ? undefined
      : (DateTime.toEpochMillis(report.finishedAt) - DateTime.toEpochMillis(report.startedAt)) / 1000
  const pages =
    report.pagesRead === report.pagesRequested
      ? `${report.pagesRead} pages`
      : `${report.pagesRead} of ${report.pagesRequested} pages requested`
  const duration = seconds === undefined ? "" : ` in ${seconds.toFixed(1)} s`
  return (
    `${report.years} years, ${report.movies} movies from ${pages} ` +
    `(${report.duplicates} duplicates, ${report.undated} undated). ` +
    `Published as delivery ${report.deliveryId ?? "(none)"}${duration}.`
  )
}

/** Formats the progress line shown while pages are read, such as `Reading pages: 7/10`. */
export const formatProgress = (progress: PageProgress): string => `Reading pages: ${progress.read}/${progress.total}`

/** Formats the one-line reason printed when a run fails, naming the page when one page caused it. */
export const formatRunFailure = (report: RunReport): string => {
  const failure = report.failure
  if (failure === null) return `Run ${report.runId} failed`
  const page = failure.page === null ? "" : ` at page ${failure.page}`
  return `Run failed${page}: ${failure.reason}`.replace(/\s*\n\s*/g, " ")
}
