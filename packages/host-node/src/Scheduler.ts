import { makeJobRunner, runCycle } from "@tmdb-yearly/core"
import type {
  CycleOptions,
  JobRunner,
  RatingsPublisher,
  RunInProgress,
  RunLog,
  StorageError,
  TopRatedSource
} from "@tmdb-yearly/core"
import { Context, DateTime, Duration, Effect, Fiber, Layer, Option, Ref, References, Schedule, Scope } from "effect"

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

/** The running scheduler, as the HTTP routes and the tests use it. */
export interface SchedulerControl {
  /**
   * Starts a run at once in the background and returns its run id, or fails with `RunInProgress`. The run
   * belongs to the scheduler, so shutdown gives it the same grace period as a scheduled run.
   */
  readonly startNow: Effect.Effect<string, RunInProgress>
  /** Whether a run is in progress. */
  readonly isRunning: Effect.Effect<boolean>
  /** Start time of the next scheduled run, as `JobRunner.nextRunAt` defines it. */
  readonly nextRunAt: Effect.Effect<Option.Option<DateTime.Utc>>
}

/**
 * The scheduler as the HTTP routes reach it. The server starts before the scheduler, because the publisher
 * needs the server's address, and it stops after the scheduler, because a run in progress may still publish
 * to it. So the routes cannot require `Scheduler`: the scheduler attaches itself here once it has started,
 * and detaches first thing at shutdown.
 */
export class SchedulerHandle extends Context.Service<
  SchedulerHandle,
  {
    /** The scheduler, or none while the service starts or shuts down. */
    readonly current: Effect.Effect<Option.Option<SchedulerControl>>
    /** Attaches `control` until the current scope closes. */
    readonly attach: (control: SchedulerControl) => Effect.Effect<void, never, Scope.Scope>
  }
>()("@tmdb-yearly/host-node/SchedulerHandle") {
  /** An empty handle. */
  static readonly layer: Layer.Layer<SchedulerHandle> = Layer.effect(
    SchedulerHandle,
    Effect.gen(function* () {
      const slot = yield* Ref.make(Option.none<SchedulerControl>())
      return SchedulerHandle.of({
        current: Ref.get(slot),
        attach: (control) =>
          Effect.acquireRelease(Ref.set(slot, Option.some(control)), () => Ref.set(slot, Option.none()))
      })
    })
  )
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

/** The job's scheduler, running in the background. It is also the way to start a run at once (`startNow`). */
export class Scheduler extends Context.Service<Scheduler, SchedulerControl>()("@tmdb-yearly/host-node/Scheduler") {
  /**
   * Starts the job loop: a run at start-up (or after the rest of the interval when the last success is
   * recent), then one run each `interval` after the previous one finished. Runs never overlap, including runs
   * started with `startNow`. The scheduler attaches itself to the `SchedulerHandle`.
   *
   * When the layer is released, as on SIGTERM, the handle is detached and scheduling stops. A run in
   * progress gets `shutdownGrace` to finish and is interrupted after that, so that it is recorded as failed
   * with reason `interrupted`.
   */
  static readonly layer = (
    options: SchedulerOptions
  ): Layer.Layer<Scheduler, StorageError, TopRatedSource | RatingsPublisher | RunLog | SchedulerHandle> =>
    Layer.effect(
      Scheduler,
      Effect.gen(function* () {
        const context = yield* Effect.context<TopRatedSource | RatingsPublisher | RunLog>()
        const cycle = (runId: string) => runCycle({ ...options.cycle, runId }).pipe(Effect.provideContext(context))
        const runner = yield* makeJobRunner({ interval: options.interval, cycle })
        const grace = options.shutdownGrace ?? DEFAULT_SHUTDOWN_GRACE

        // Finalisers run in reverse order, so the runs scope, made first, closes last: after the grace period.
        const runs = yield* Scope.fork(yield* Effect.scope, "sequential")
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

        const control: SchedulerControl = {
          // The run's fiber inherits the caller's log annotations, such as a request's `route`, so they are
          // cleared: the run belongs to the scheduler.
          startNow: runner.start.pipe(Scope.provide(runs), Effect.provideService(References.CurrentLogAnnotations, {})),
          isRunning: runner.isRunning,
          nextRunAt: runner.nextRunAt
        }
        const handle = yield* SchedulerHandle
        yield* handle.attach(control)
        yield* Effect.logInfo("Scheduler started").pipe(
          Effect.annotateLogs({
            interval: Duration.format(options.interval),
            pages: options.cycle.pages,
            concurrency: options.cycle.concurrency
          })
        )
        return control
      })
    )
}
