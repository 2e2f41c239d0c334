import { Cause, Clock, DateTime, Duration, Effect, Option, Ref, Schema, Semaphore } from "effect"
import type { Scope } from "effect"
import { registerRunMetrics } from "./RunCycle.ts"
import type { CycleResult } from "./RunCycle.ts"
import { RunLog } from "./RunLog.ts"
import type { StorageError } from "./StorageError.ts"

/**
 * A run was requested while another run is in progress. `runId` is that run's id, or null in the instant
 * between taking the lock and naming the run.
 */
export class RunInProgress extends Schema.TaggedError<RunInProgress>()("RunInProgress", {
  runId: Schema.NullOr(Schema.String)
}) {
  override get message(): string {
    const run = this.runId === null ? "Another run" : `Run ${this.runId}`
    return `${run} is in progress: try again after it finishes`
  }
}

/** The job's scheduler. Runs never overlap: `runNow`, `start` and `loop` share one lock. */
export interface JobRunner {
  /**
   * Starts a run at once and returns its result, or fails with `RunInProgress` when a run is in progress.
   * A `StorageError` or a defect of the cycle is raised to the caller. The next scheduled run comes one
   * interval after this run finishes.
   */
  readonly runNow: Effect.Effect<CycleResult, RunInProgress | StorageError>
  /**
   * Starts a run at once in a new fiber of the current scope and returns its run id without waiting for it,
   * or fails with `RunInProgress` when a run is in progress. Closing the scope interrupts the run, and when the
   * scope is already closed no run starts and the caller is interrupted. A `StorageError` or a defect of the
   * run is logged, not raised. The next scheduled run comes one interval after this run finishes.
   */
  readonly start: Effect.Effect<string, RunInProgress, Scope.Scope>
  /**
   * Runs the cycle at once, or after the rest of the interval when the last success is more recent than
   * one interval, and then again each time one interval has passed since the previous run finished. A
   * failed run is logged and the loop goes on. Fork it, and interrupt it to stop.
   */
  readonly loop: Effect.Effect<never>
  /** Whether a run is in progress. */
  readonly isRunning: Effect.Effect<boolean>
  /**
   * Start time of the next scheduled run: one interval after the last run finished, or now when that time
   * has passed. None while a run is in progress, and before the first run when no earlier success is known.
   */
  readonly nextRunAt: Effect.Effect<Option.Option<DateTime.Utc>>
}

/**
 * Builds the scheduler of `cycle`, spaced by `interval` from the end of one run to the start of the next,
 * like `Schedule.spaced`. Each run gets a new random UUID as its id, which `cycle` receives. It reads
 * `RunLog.lastSuccess` once, here, so that a quick restart waits for the rest of the interval. Time comes from
 * `Clock`, so `TestClock` drives it in tests. It also registers the run metrics of `runCycle` at zero.
 */
export const makeJobRunner = Effect.fn("makeJobRunner")(function* (options: {
  readonly interval: Duration.Input
  readonly cycle: (runId: string) => Effect.Effect<CycleResult, StorageError>
}): Effect.fn.Return<JobRunner, StorageError, RunLog> {
  const runLog = yield* RunLog
  yield* registerRunMetrics
  const intervalMs = Duration.toMillis(options.interval)
  const lock = yield* Semaphore.make(1)
  // The id of the run in progress, kept in this process so that a 409 can name it without a database read.
  const current = yield* Ref.make<Option.Option<string>>(Option.none())

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
    yield* Ref.set(current, Option.none())
  })

  // Callers hold the lock. Each run gets its id here, so that `start` can return it before the run ends.
  const runLocked = (runId: string) =>
    Ref.set(current, Option.some(runId)).pipe(Effect.andThen(options.cycle(runId)), Effect.ensuring(recordEnd))
  const newRunId = Effect.sync(() => crypto.randomUUID())

  const runInProgress = Effect.flatMap(Ref.get(current), (runId) =>
    Effect.fail(new RunInProgress({ runId: Option.getOrNull(runId) }))
  )

  const runNow = newRunId.pipe(
    Effect.flatMap((runId) => lock.withPermitsIfAvailable(1)(runLocked(runId))),
    Effect.flatMap(Option.match({ onSome: Effect.succeed, onNone: () => runInProgress }))
  )

  // A background run that fails is logged and not raised, because no caller waits for its result. The loop
  // goes on after it. Interruption stops it.
  const logFailure = (message: string) => (cause: Cause.Cause<StorageError>) =>
    Cause.hasInterruptsOnly(cause) ? Effect.interrupt : Effect.logError(message, cause)

  // The fiber starts at once and uninterruptible, so the lock is released by `ensuring` even when the scope
  // closes right after the fork. The run itself stays interruptible. A fork into a scope that is already
  // closed never starts its fiber, so then the lock is released here and the caller is interrupted.
  const start = Effect.uninterruptible(
    Effect.gen(function* () {
      if (!(yield* Semaphore.takeIfAvailable(lock, 1))) return yield* runInProgress
      const runId = yield* newRunId
      let started = false
      yield* Effect.sync(() => {
        started = true
      }).pipe(
        Effect.andThen(
          runLocked(runId).pipe(Effect.catchCause(logFailure("Requested run failed")), Effect.interruptible)
        ),
        Effect.ensuring(Semaphore.release(lock, 1)),
        Effect.forkScoped({ startImmediately: true, uninterruptible: true })
      )
      if (!started) {
        yield* Semaphore.release(lock, 1)
        return yield* Effect.interrupt
      }
      return runId
    })
  )

  const scheduledRun = newRunId.pipe(Effect.flatMap(runLocked), Effect.catchCause(logFailure("Scheduled run failed")))

  const tick = Effect.gen(function* () {
    const waitMs = yield* millisUntilDue
    if (waitMs > 0) return yield* Effect.sleep(Duration.millis(waitMs))
    // A run started by runNow or start may have finished while this fiber waited for the lock, so check again.
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

  const nextRunAt = Effect.gen(function* () {
    if (Option.isSome(yield* Ref.get(current))) return Option.none<DateTime.Utc>()
    const end = yield* Ref.get(lastEnd)
    const now = yield* Clock.currentTimeMillis
    return Option.map(end, (finished) => DateTime.makeUnsafe(Math.max(now, finished + intervalMs)))
  })

  return { runNow, start, loop, isRunning: Effect.map(Ref.get(current), Option.isSome), nextRunAt }
})
