import { Cause, Clock, DateTime, Duration, Effect, Option, Ref, Schema, Semaphore } from "effect"
import { registerRunMetrics } from "./RunCycle.ts"
import type { CycleResult } from "./RunCycle.ts"
import { RunLog } from "./RunLog.ts"
import type { StorageError } from "./StorageError.ts"

/** A run was requested while another run is in progress. `runId` is that run's id when the run log has it. */
export class RunInProgress extends Schema.TaggedError<RunInProgress>()("RunInProgress", {
  runId: Schema.NullOr(Schema.String)
}) {
  override get message(): string {
    const run = this.runId === null ? "Another run" : `Run ${this.runId}`
    return `${run} is in progress: try again after it finishes`
  }
}

/** The job's scheduler. Runs never overlap: `runNow` and `loop` share one lock. */
export interface JobRunner {
  /**
   * Starts a run at once and returns its result, or fails with `RunInProgress` when a run is in progress.
   * A `StorageError` or a defect of the cycle is raised to the caller. The next scheduled run comes one
   * interval after this run finishes.
   */
  readonly runNow: Effect.Effect<CycleResult, RunInProgress | StorageError>
  /**
   * Runs the cycle at once, or after the rest of the interval when the last success is more recent than
   * one interval, and then again each time one interval has passed since the previous run finished. A
   * failed run is logged and the loop goes on. Fork it, and interrupt it to stop.
   */
  readonly loop: Effect.Effect<never>
  /** Whether a run is in progress. */
  readonly isRunning: Effect.Effect<boolean>
}

/**
 * Builds the scheduler of `cycle`, spaced by `interval` from the end of one run to the start of the next,
 * like `Schedule.spaced`. It reads `RunLog.lastSuccess` once, here, so that a quick restart waits for the
 * rest of the interval. Time comes from `Clock`, so `TestClock` drives it in tests. It also registers the run
 * metrics of `runCycle` at zero.
 */
export const makeJobRunner = Effect.fn("makeJobRunner")(function* (options: {
  readonly interval: Duration.Input
  readonly cycle: Effect.Effect<CycleResult, StorageError>
}): Effect.fn.Return<JobRunner, StorageError, RunLog> {
  const runLog = yield* RunLog
  yield* registerRunMetrics
  const intervalMs = Duration.toMillis(options.interval)
  const lock = yield* Semaphore.make(1)
  const running = yield* Ref.make(false)

  const now = yield* Clock.currentTimeMillis
  const lastSuccess = yield* runLog.lastSuccess
  // End of the last run, in epoch milliseconds. A success in the future (clock skew) counts as now.
  const lastEnd = yield* Ref.make<Option.Option<number>>(
    Option.map(lastSuccess, (finishedAt) => Math.min(now, DateTime.toEpochMillis(finishedAt)))
  )

  const millisUntilDue = Effect.gen(function* () {
    const end = yield* Ref.get(lastEnd)
    const current = yield* Clock.currentTimeMillis
    return Option.match(end, { onNone: () => 0, onSome: (finished) => Math.max(0, finished + intervalMs - current) })
  })

  const recordEnd = Effect.gen(function* () {
    const finished = yield* Clock.currentTimeMillis
    yield* Ref.set(lastEnd, Option.some(finished))
    yield* Ref.set(running, false)
  })

  // Callers hold the lock.
  const runLocked = Ref.set(running, true).pipe(Effect.andThen(options.cycle), Effect.ensuring(recordEnd))

  const runningRunId = runLog.recent(1).pipe(
    Effect.map((reports) => {
      const newest = reports[0]
      return newest !== undefined && newest.outcome === "running" ? newest.runId : null
    }),
    Effect.catchCause((cause) =>
      Effect.logWarning("Reading the id of the run in progress failed", cause).pipe(Effect.as(null))
    )
  )

  const runNow = lock
    .withPermitsIfAvailable(1)(runLocked)
    .pipe(
      Effect.flatMap(
        Option.match({
          onSome: Effect.succeed,
          onNone: () => runningRunId.pipe(Effect.flatMap((runId) => Effect.fail(new RunInProgress({ runId }))))
        })
      )
    )

  // A scheduled run that fails is logged and not raised, so that the loop goes on. Interruption stops it.
  const scheduledRun = runLocked.pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause) ? Effect.interrupt : Effect.logError("Scheduled run failed", cause)
    )
  )

  const tick = Effect.gen(function* () {
    const waitMs = yield* millisUntilDue
    if (waitMs > 0) return yield* Effect.sleep(Duration.millis(waitMs))
    // A run started by runNow may have finished while this fiber waited for the lock, so check again.
    yield* lock.withPermit(
      Effect.gen(function* () {
        if ((yield* millisUntilDue) === 0) yield* scheduledRun
      })
    )
  })

  const announceFirstWait = Effect.gen(function* () {
    const waitMs = yield* millisUntilDue
    if (waitMs === 0 || Option.isNone(lastSuccess)) return
    yield* Effect.logInfo("Last success is recent: the first run waits for the rest of the interval").pipe(
      Effect.annotateLogs({ last_success: DateTime.formatIso(lastSuccess.value), wait_ms: waitMs })
    )
  })

  const loop: Effect.Effect<never> = announceFirstWait.pipe(Effect.andThen(Effect.forever(tick)))

  return { runNow, loop, isRunning: Ref.get(running) }
})
