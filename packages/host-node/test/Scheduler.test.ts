import { assert, describe, it } from "@effect/vitest"
import { MemoryPublisher, RatingsPublisher, RunLog, TopRatedSource } from "@tmdb-yearly/core"
import type { TopRatedPage } from "@tmdb-yearly/core"
import { Deferred, Duration, Effect, Exit, Layer, Scope } from "effect"
import { recordedPages } from "../../../testing/topRatedFixture.ts"
import { Scheduler } from "../src/Scheduler.ts"

const PAGES: ReadonlyArray<TopRatedPage> = recordedPages(1, 10)

/** A source whose page 2 signals `reached` and then waits for `delay` (forever when undefined). */
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

/** Builds the scheduler in its own scope, waits until its first run reaches page 2, then closes the scope. */
const shutDownDuringRun = (delay: Duration.Duration | undefined, grace: Duration.Duration) =>
  Effect.gen(function* () {
    const reached = yield* Deferred.make<void>()
    const stores = yield* Layer.build(Layer.mergeAll(RunLog.layerMemory, RatingsPublisher.layerMemory))
    const scope = yield* Scope.make()
    yield* Layer.buildWithScope(
      Scheduler.layer({
        interval: Duration.minutes(30),
        cycle: { pages: 10, concurrency: 1, decimals: 1 },
        shutdownGrace: grace
      }).pipe(Layer.provide(slowSource(reached, delay))),
      scope
    ).pipe(Effect.provideContext(stores))
    yield* Deferred.await(reached)
    yield* Scope.close(scope, Exit.void)

    const runs = yield* RunLog.use((log) => log.recent(10)).pipe(Effect.provideContext(stores))
    const deliveries = yield* MemoryPublisher.use((memory) => memory.deliveries).pipe(Effect.provideContext(stores))
    return { runs, deliveries }
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
})
