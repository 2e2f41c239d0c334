import { Cause, Clock, DateTime, Effect, Exit, Metric, Option } from "effect"
import { aggregate } from "./Aggregation.ts"
import type { YearlyTable } from "./Aggregation.ts"
import { collectPages } from "./CollectPages.ts"
import type { Collection, CollectOptions } from "./CollectPages.ts"
import type { Delivery } from "./Delivery.ts"
import { RatingsPublisher } from "./RatingsPublisher.ts"
import type { PublishError } from "./RatingsPublisher.ts"
import { RunLog } from "./RunLog.ts"
import { RunReport } from "./RunReport.ts"
import type { RunFailure, RunOutcome } from "./RunReport.ts"
import type { StorageError } from "./StorageError.ts"
import { TopRatedSource } from "./TopRatedSource.ts"
import type { PageReadError } from "./TopRatedSource.ts"
import type { YearlyRating } from "./YearlyRating.ts"

/** Options of one cycle: the collection options and the decimals of the published averages. */
export interface CycleOptions extends CollectOptions {
  /** Decimals of the published `vote_average`, from 0 to 3. */
  readonly decimals: number
  /** Id of the run, which also names its delivery. Default: a new random UUID. */
  readonly runId?: string | undefined
}

/** The final report of one cycle and the rows it published. */
export interface CycleResult {
  readonly report: RunReport
  /** The published rows, or an empty array when the run failed. */
  readonly rows: ReadonlyArray<YearlyRating>
}

/** Finished runs, by `outcome` (`succeeded` or `failed`). An interrupted run counts as failed. */
export const runsTotal = Metric.counter("tmdb_yearly_runs_total", {
  description: "Runs of the job that finished, by outcome",
  incremental: true
})

/** Wall-clock duration of finished runs, from the start record to the final report, in seconds. */
export const runDurationSeconds = Metric.histogram("tmdb_yearly_run_duration_seconds", {
  description: "Duration of finished runs of the job, in seconds",
  boundaries: Metric.boundariesFromIterable([0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800])
})

/**
 * Registers the run metrics at zero, for both outcomes, so that a metrics endpoint lists them before the
 * first run finishes.
 */
export const registerRunMetrics: Effect.Effect<void> = Effect.all(
  [
    Metric.value(Metric.withAttributes(runsTotal, { outcome: "succeeded" })),
    Metric.value(Metric.withAttributes(runsTotal, { outcome: "failed" })),
    Metric.value(runDurationSeconds)
  ],
  { discard: true }
)

/**
 * Derives the delivery id (the Standard Webhooks `webhook-id`) of a run. Message ids conventionally start
 * with `msg_`, and one id per run lets the receiver drop a repeated delivery of the same run.
 */
export const deliveryIdForRun = (runId: string): string => `msg_${runId}`

/** Reason recorded for a run that was interrupted after it started, for example at shutdown. */
export const INTERRUPTED_REASON = "interrupted"

/** How far a run got: each field is set once its step has succeeded. */
interface Progress {
  collection?: Collection
  table?: YearlyTable
  delivery?: Delivery
}

const failureOf = (cause: Cause.Cause<PageReadError | PublishError>): RunFailure => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error)) {
    return { page: error.value._tag === "PageReadError" ? error.value.page : null, reason: error.value.message }
  }
  if (Cause.hasDies(cause)) {
    const defect = Cause.squash(cause)
    const detail = defect instanceof Error ? defect.message : String(defect)
    return { page: null, reason: `unexpected error: ${detail}` }
  }
  return { page: null, reason: INTERRUPTED_REASON }
}

const finalReport = (
  started: RunReport,
  progress: Progress,
  exit: Exit.Exit<unknown, PageReadError | PublishError>,
  finishedAt: DateTime.Utc
): RunReport => {
  const succeeded = Exit.isSuccess(exit)
  const outcome: RunOutcome = succeeded ? "succeeded" : "failed"
  return new RunReport({
    ...started,
    finishedAt,
    pagesRead: progress.collection?.pagesRead ?? 0,
    movies: progress.table?.movies ?? 0,
    duplicates: progress.table?.duplicates ?? 0,
    undated: progress.table?.undated ?? 0,
    years: progress.table?.years ?? 0,
    deliveryId: succeeded ? (progress.delivery?.id ?? null) : null,
    outcome,
    failure: Exit.isFailure(exit) ? failureOf(exit.cause) : null
  })
}

const logRunEnd = (report: RunReport, durationMs: number): Effect.Effect<void> =>
  Effect.logInfo("Run finished").pipe(
    Effect.annotateLogs({
      outcome: report.outcome,
      pages_read: report.pagesRead,
      movies: report.movies,
      duplicates: report.duplicates,
      undated: report.undated,
      years: report.years,
      delivery_id: report.deliveryId,
      duration_ms: durationMs
    })
  )

/**
 * Runs the job once: records the start in the run log with outcome `running`, reads the pages, aggregates
 * them, publishes the table as one delivery whose id is `deliveryIdForRun(runId)`, and replaces the record
 * with the final report.
 *
 * A page that cannot be read or a delivery that is not accepted ends the run with outcome `failed` and
 * `failure` naming the page (or null) and the reason. Nothing is published after a page failure. Such a
 * failure is returned in the report, not raised. Only a `StorageError` of the run log is raised. A defect is
 * recorded as a failed run and then raised again. When the run is interrupted after its start was recorded,
 * an uninterruptible finaliser still tries to record it as failed with reason `interrupted`.
 */
export const runCycle = Effect.fn("runCycle")(function* (
  options: CycleOptions
): Effect.fn.Return<CycleResult, StorageError, TopRatedSource | RatingsPublisher | RunLog> {
  const runLog = yield* RunLog
  const publisher = yield* RatingsPublisher
  const source = yield* TopRatedSource
  const runId = options.runId ?? crypto.randomUUID()
  const startMillis = yield* Clock.currentTimeMillis
  const started = new RunReport({
    runId,
    startedAt: DateTime.makeUnsafe(startMillis),
    finishedAt: null,
    pagesRequested: options.pages,
    pagesRead: 0,
    movies: 0,
    duplicates: 0,
    undated: 0,
    years: 0,
    deliveryId: null,
    outcome: "running",
    failure: null
  })

  const progress: Progress = {}
  const work = Effect.gen(function* () {
    progress.collection = yield* collectPages(options).pipe(Effect.provideService(TopRatedSource, source))
    progress.table = aggregate(progress.collection.pages, { decimals: options.decimals })
    const delivery: Delivery = { id: deliveryIdForRun(runId), rows: progress.table.rows }
    yield* publisher.publish(delivery)
    progress.delivery = delivery
    return delivery.rows
  })

  // Everything outside `restore` is uninterruptible, so a run whose start was recorded always gets a final
  // report, even when the fiber is interrupted while it reads or publishes.
  const result = Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      yield* runLog.start(started)
      yield* Effect.logInfo("Run started").pipe(Effect.annotateLogs({ pages_requested: options.pages }))

      const exit = yield* Effect.exit(restore(work))
      const finishMillis = yield* Clock.currentTimeMillis
      const report = finalReport(started, progress, exit, DateTime.makeUnsafe(finishMillis))
      const durationMs = finishMillis - startMillis

      if (Exit.isFailure(exit)) {
        const failure = report.failure
        const log = Cause.hasInterruptsOnly(exit.cause) ? Effect.logWarning : Effect.logError
        yield* log("Run failed", exit.cause).pipe(
          Effect.annotateLogs({ page: failure?.page ?? null, reason: failure?.reason ?? "" })
        )
      }
      yield* logRunEnd(report, durationMs)
      yield* Metric.update(Metric.withAttributes(runsTotal, { outcome: report.outcome }), 1)
      yield* Metric.update(runDurationSeconds, durationMs / 1000)

      if (Exit.isFailure(exit) && !Cause.hasFails(exit.cause)) {
        // Interrupted, or a defect: record the run as well as possible, then raise the cause again.
        // NOTE: this waits for RunLog.finish without a time limit, so a run log that hangs delays the
        // interruption (and a host's shutdown) until the adapter's own timeout fires.
        yield* runLog
          .finish(report)
          .pipe(Effect.catchCause((cause) => Effect.logError("Recording the final report of the run failed", cause)))
        return yield* Cause.hasDies(exit.cause) ? Effect.die(Cause.squash(exit.cause)) : Effect.interrupt
      }
      yield* runLog.finish(report)
      return { report, rows: Exit.isSuccess(exit) ? exit.value : [] }
    })
  )
  return yield* result.pipe(Effect.annotateLogs({ run_id: runId }))
})
