import { assert, describe, it } from "@effect/vitest"
import { MemoryPublisher, RatingsPublisher, RunLog, RunReport, TopRatedSource } from "@tmdb-yearly/core"
import type { TopRatedPage } from "@tmdb-yearly/core"
import { DateTime, Deferred, Duration, Effect, Exit, Layer, Option, Scope } from "effect"
import { recordedPages } from "../../../testing/topRatedFixture.ts"
import { Scheduler, SchedulerHandle } from "../src/Scheduler.ts"

const PAGES: ReadonlyArray<TopRatedPage> = recordedPages(1, 10)

/** Builds a source whose page 2 completes `reached` and then waits for `delay`, or forever when it is undefined. */
const slowSource = (reached: Deferred.Deferred<void>, delay: Duration.Duration | undefined) => {
  const memory = TopRatedSource.makeMemory(PAGES)
  return Layer.succeed(
    TopRatedSource,
    TopRatedSource.of({
      readPage: (page) =>
        page !== 2
          ? memory.readPage(page)
          : Deferred.succeed(reached, undefined).pipe(
              Effect.andThen(delay === undefined ? Effect.never : Effect.sleep(delay)),
              Effect.andThen(memory.readPage(page))
            )
    })
  )
}

/** Records a run that succeeded just now, so that the scheduler's first run waits for the whole interval. */
const recordRecentSuccess = RunLog.use((log) =>
  Effect.gen(function* () {
    const now = yield* DateTime.now
    const report = new RunReport({
      runId: "earlier",
      startedAt: now,
      finishedAt: now,
      pagesRequested: 10,
      pagesRead: 10,
      movies: 200,
      duplicates: 0,
      undated: 0,
      years: 72,
      deliveryId: "msg_earlier",
      outcome: "succeeded",
      failure: null
    })
    yield* log.start(new RunReport({ ...report, finishedAt: null, outcome: "running" }))
    yield* log.finish(report)
  })
)

/**
 * Builds the scheduler in its own scope, waits until a run reaches page 2, then closes the scope. With
 * `requested`, the last success is recent, so the loop waits, and the run is started with `startNow`.
 */
const shutDownDuringRun = (
  delay: Duration.Duration | undefined,
  grace: Duration.Duration,
  options: { readonly requested: boolean } = { requested: false }
) =>
  Effect.gen(function* () {
    const reached = yield* Deferred.make<void>()
    const stores = yield* Layer.build(
      Layer.mergeAll(RunLog.layerMemory, RatingsPublisher.layerMemory, SchedulerHandle.layer)
    )
    if (options.requested) yield* recordRecentSuccess.pipe(Effect.provideContext(stores), Effect.orDie)
    const scope = yield* Scope.make()
    const scheduler = yield* Layer.buildWithScope(
      Scheduler.layer({
        interval: Duration.minutes(30),
        cycle: { pages: 10, concurrency: 1, decimals: 1 },
        shutdownGrace: grace
      }).pipe(Layer.provide(slowSource(reached, delay))),
      scope
    ).pipe(Effect.provideContext(stores))
    if (options.requested) yield* Scheduler.use((control) => control.startNow).pipe(Effect.provideContext(scheduler))
    yield* Deferred.await(reached)
    yield* Scope.close(scope, Exit.void)

    const runs = yield* RunLog.use((log) => log.recent(10)).pipe(Effect.provideContext(stores))
    const deliveries = yield* MemoryPublisher.use((memory) => memory.deliveries).pipe(Effect.provideContext(stores))
    const handle = yield* SchedulerHandle.use((handle) => handle.current).pipe(Effect.provideContext(stores))
    return { runs: runs.filter((run) => run.runId !== "earlier"), deliveries, handle }
  })

describe("Scheduler", () => {
  it.live("shutdown lets a short run finish", () =>
    Effect.gen(function* () {
      const { runs, deliveries } = yield* shutDownDuringRun(Duration.millis(300), Duration.seconds(10))
      assert.strictEqual(runs.length, 1)
      assert.strictEqual(runs[0]?.outcome, "succeeded")
      assert.strictEqual(runs[0]?.pagesRead, 10)
      assert.strictEqual(deliveries.length, 1)
      assert.strictEqual(deliveries[0]?.rows.length, 72)
    })
  )

  it.live("shutdown interrupts a run after the grace period", () =>
    Effect.gen(function* () {
      const { runs, deliveries } = yield* shutDownDuringRun(undefined, Duration.millis(200))
      assert.strictEqual(runs.length, 1)
      assert.strictEqual(runs[0]?.outcome, "failed")
      assert.strictEqual(runs[0]?.failure?.reason, "interrupted")
      assert.strictEqual(deliveries.length, 0)
    })
  )

  it.live("shutdown lets a requested run finish", () =>
    Effect.gen(function* () {
      const { runs, deliveries } = yield* shutDownDuringRun(Duration.millis(300), Duration.seconds(10), {
        requested: true
      })
      assert.strictEqual(runs.length, 1)
      assert.strictEqual(runs[0]?.outcome, "succeeded")
      assert.strictEqual(deliveries.length, 1)
    })
  )

  it.live("shutdown interrupts a requested run after the grace period", () =>
    Effect.gen(function* () {
      const { runs, deliveries } = yield* shutDownDuringRun(undefined, Duration.millis(200), { requested: true })
      assert.strictEqual(runs.length, 1)
      assert.strictEqual(runs[0]?.outcome, "failed")
      assert.strictEqual(runs[0]?.failure?.reason, "interrupted")
      assert.strictEqual(deliveries.length, 0)
    })
  )

  it.live("handle is detached at shutdown", () =>
    Effect.gen(function* () {
      const { handle } = yield* shutDownDuringRun(Duration.millis(10), Duration.seconds(10))
      assert.isTrue(Option.isNone(handle))
    })
  )

  it.live("handle reaches the running scheduler", () =>
    Effect.gen(function* () {
      const stores = yield* Layer.build(
        Layer.mergeAll(RunLog.layerMemory, RatingsPublisher.layerMemory, SchedulerHandle.layer)
      )
      yield* recordRecentSuccess.pipe(Effect.provideContext(stores), Effect.orDie)
      const reached = yield* Deferred.make<void>()
      yield* Layer.build(
        Scheduler.layer({
          interval: Duration.minutes(30),
          cycle: { pages: 10, concurrency: 1, decimals: 1 },
          shutdownGrace: Duration.millis(100)
        }).pipe(Layer.provide(slowSource(reached, undefined)))
      ).pipe(Effect.provideContext(stores))
      const handle = yield* SchedulerHandle.use((handle) => handle.current).pipe(Effect.provideContext(stores))
      assert.isTrue(Option.isSome(handle))
      if (Option.isNone(handle)) return
      const next = yield* handle.value.nextRunAt
      assert.isTrue(Option.isSome(next))
      const runId = yield* handle.value.startNow
      yield* Deferred.await(reached)
      assert.isTrue(yield* handle.value.isRunning)
      const second = yield* Effect.flip(handle.value.startNow)
      assert.strictEqual(second._tag, "RunInProgress")
      assert.strictEqual(second.runId, runId)
    })
  )
})
