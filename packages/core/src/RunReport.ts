import { Schema } from "effect"

/** Outcome of one run of the job. A run is `running` from its start until it is recorded as finished. */
export const RunOutcome = Schema.Literals(["running", "succeeded", "failed"])
export type RunOutcome = typeof RunOutcome.Type

/** Why a run failed: the page number when one page caused it, and a one-line reason. */
export const RunFailure = Schema.Struct({
  page: Schema.NullOr(Schema.Int),
  reason: Schema.String
})
export type RunFailure = typeof RunFailure.Type

/**
 * The record of one run: when it ran, what it read and counted, which delivery it published, and how it
 * ended. Counts are zero until the run gets that far. `pagesRead` is lower than `pagesRequested` when TMDB
 * reported fewer `total_pages`.
 */
export class RunReport extends Schema.Class<RunReport>("RunReport")({
  runId: Schema.String,
  startedAt: Schema.DateTimeUtcFromString,
  finishedAt: Schema.NullOr(Schema.DateTimeUtcFromString),
  pagesRequested: Schema.Int,
  pagesRead: Schema.Int,
  movies: Schema.Int,
  duplicates: Schema.Int,
  undated: Schema.Int,
  years: Schema.Int,
  deliveryId: Schema.NullOr(Schema.String),
  outcome: RunOutcome,
  failure: Schema.NullOr(RunFailure)
}) {}
