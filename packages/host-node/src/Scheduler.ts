import { makeJobRunner, runCycle } from "@tmdb-yearly/core"
import type { CycleOptions, JobRunner, RatingsPublisher, RunLog, StorageError, TopRatedSource } from "@tmdb-yearly/core"
import { Context, Duration, Effect, Fiber, Layer, Option, Schedule } from "effect"

/** Default time a run in progress gets to finish at shutdown before it is interrupted. */
export const DEFAULT_SHUTDOWN_GRACE = Duration.seconds(30)

/** Options of `Scheduler.layer`. */
export interface SchedulerOptions {
  /** Pause between the end of one run and the start of the next. */
  readonly interval: Duration.Duration
  /** Pages, concurrency and decimals of each run. */
  readonly cycle: CycleOptions
  /** Time a run in progress gets to finish at shutdown. Default: `DEFAULT_SHUTDOWN_GRACE`. */
  readonly shutdownGrace?: Duration.Duration
}

/**
 * Waits until no run is in progress, checking every 100 ms, for at most `grace`. Returns false when a run was
 * still in progress at the end of that time.
 */
const waitForIdle = (runner: JobRunner, grace: Duration.Duration): Effect.Effect<boolean> =>
  runner.isRunning.pipe(
    Effect.repeat({ until: (running) => !running, schedule: Schedule.spaced("100 millis") }),
    Effect.timeoutOption(grace),
    Effect.map(Option.isSome)
  )

/** The job's scheduler, running in the background. It is also the way to start a run at once (`runNow`). */
export class Scheduler extends Context.Service<Scheduler, JobRunner>()("@tmdb-yearly/host-node/Scheduler") {
  /**
   * Starts the job loop: a run at start-up (or after the rest of the interval when the last success is
   * recent), then one run each `interval` after the previous one finished. Runs never overlap.
   *
   * When the layer is released, as on SIGTERM, scheduling stops. A run in progress gets `shutdownGrace` to
   * finish and is interrupted after that, so that it is recorded as failed with reason `interrupted`.
   */
  static readonly layer = (
    options: SchedulerOptions
  ): Layer.Layer<Scheduler, StorageError, TopRatedSource | RatingsPublisher | RunLog> =>
    Layer.effect(
      Scheduler,
      Effect.gen(function* () {
        const context = yield* Effect.context<TopRatedSource | RatingsPublisher | RunLog>()
        const cycle = runCycle(options.cycle).pipe(Effect.provideContext(context))
        const runner = yield* makeJobRunner({ interval: options.interval, cycle })
        const grace = options.shutdownGrace ?? DEFAULT_SHUTDOWN_GRACE

        // The loop is interrupted by this finaliser alone, after the run in progress had its grace period.
        const loop = yield* Effect.forkDetach(runner.loop)
        yield* Effect.addFinalizer(() =>
          Effect.gen(function* () {
            if (yield* runner.isRunning) {
              yield* Effect.logInfo("Shutting down: waiting for the run in progress to finish").pipe(
                Effect.annotateLogs({ grace_ms: Duration.toMillis(grace) })
              )
              const finished = yield* waitForIdle(runner, grace)
              if (!finished) yield* Effect.logWarning("The run in progress did not finish in time: interrupting it")
            }
            yield* Fiber.interrupt(loop)
          })
        )
        yield* Effect.logInfo("Scheduler started").pipe(
          Effect.annotateLogs({
            interval: Duration.format(options.interval),
            pages: options.cycle.pages,
            concurrency: options.cycle.concurrency
          })
        )
        return runner
      })
    )
}
