import { assert, describe, it } from "@effect/vitest"
import {
  collectPages,
  MemoryPublisher,
  PageReadError,
  RatingsPublisher,
  runCycle,
  RunLog,
  TopRatedSource
} from "@tmdb-yearly/core"
import type { TopRatedPage } from "@tmdb-yearly/core"
import { Cause, Duration, Effect, Exit, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { withCapturedLogs } from "../../../testing/LogCapture.ts"

/** Builds pages 1 to `count`, each with one dated movie whose id is the page number. */
const syntheticPages = (count: number, totalPages: number): ReadonlyArray<TopRatedPage> =>
  Array.from({ length: count }, (_, index) => ({
    page: index + 1,
    results: [{ id: index + 1, release_date: "2000-06-15", vote_average: 7 }],
    total_pages: totalPages,
    total_results: totalPages * 20
  }))

/** What an instrumented source saw: pages in request order, in completion order, and interrupted. */
interface SourceRecord {
  readonly requested: Array<number>
  readonly completed: Array<number>
  readonly interrupted: Array<number>
  inFlight: number
  peak: number
}

/**
 * Wraps the in-memory source of `pages`: each read waits `delay(page)` of clock time (none when undefined),
 * and `fail(page)` makes a page fail after its delay.
 */
const instrumentedSource = (
  pages: ReadonlyArray<TopRatedPage>,
  options: {
    readonly delay?: (page: number) => Duration.Input | undefined
    readonly fail?: (page: number) => PageReadError | undefined
  } = {}
) => {
  const record: SourceRecord = { requested: [], completed: [], interrupted: [], inFlight: 0, peak: 0 }
  const memory = TopRatedSource.makeMemory(pages)
  const readPage = (page: number) =>
    Effect.gen(function* () {
      record.requested.push(page)
      record.inFlight++
      record.peak = Math.max(record.peak, record.inFlight)
      const delay = options.delay?.(page)
      if (delay !== undefined) yield* Effect.sleep(delay)
      const failure = options.fail?.(page)
      if (failure !== undefined) return yield* failure
      const result = yield* memory.readPage(page)
      record.completed.push(page)
      return result
    }).pipe(
      Effect.onInterrupt(() => Effect.sync(() => record.interrupted.push(page))),
      Effect.ensuring(Effect.sync(() => record.inFlight--))
    )
  return { record, layer: Layer.succeed(TopRatedSource, TopRatedSource.of({ readPage })) }
}

/** Forks `effect`, advances the test clock by `time`, and returns the fiber's result. */
const runFor = <A, E>(time: Duration.Input, effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(time)
    return yield* Fiber.join(fiber)
  })

const range = (from: number, to: number): Array<number> =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index)

describe("collectPages", () => {
  for (const concurrency of [1, 4, 7]) {
    it.effect(`keeps at most ${concurrency} pages in flight`, () =>
      Effect.gen(function* () {
        const source = instrumentedSource(syntheticPages(40, 40), {
          delay: (page) => Duration.seconds((page % 3) + 1)
        })
        const collection = yield* runFor(
          "10 minutes",
          collectPages({ pages: 40, concurrency }).pipe(Effect.provide(source.layer))
        )
        assert.strictEqual(source.record.peak, concurrency)
        assert.strictEqual(collection.pagesRead, 40)
        assert.strictEqual(source.record.requested.length, 40)
      })
    )
  }

  it.effect("reads page 1 alone before the rest", () =>
    Effect.gen(function* () {
      const source = instrumentedSource(syntheticPages(10, 10), { delay: () => "1 second" })
      const fiber = yield* Effect.forkChild(
        collectPages({ pages: 10, concurrency: 4 }).pipe(Effect.provide(source.layer))
      )
      yield* TestClock.adjust("500 millis")
      assert.deepStrictEqual(source.record.requested, [1])
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(source.record.requested, [1, 2, 3, 4, 5])
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
    })
  )

  it.effect("never requests page 501", () =>
    Effect.gen(function* () {
      const source = instrumentedSource(syntheticPages(900, 900))
      const collection = yield* collectPages({ pages: 500, concurrency: 8 }).pipe(Effect.provide(source.layer))
      assert.deepStrictEqual(
        [...source.record.requested].sort((left, right) => left - right),
        range(1, 500)
      )
      assert.strictEqual(collection.pagesRequested, 500)
      assert.strictEqual(collection.pagesRead, 500)
      assert.strictEqual(collection.pages.length, 500)
    })
  )

  it.effect("caps a request above 500 pages", () =>
    Effect.gen(function* () {
      const source = instrumentedSource(syntheticPages(900, 900))
      const collection = yield* collectPages({ pages: 600, concurrency: 8 }).pipe(Effect.provide(source.layer))
      assert.strictEqual(Math.max(...source.record.requested), 500)
      assert.strictEqual(collection.pagesRequested, 600)
      assert.strictEqual(collection.pagesRead, 500)
    })
  )

  it.effect("reads fewer pages when total_pages is smaller", () =>
    Effect.gen(function* () {
      const source = instrumentedSource(syntheticPages(3, 3))
      const layer = Layer.mergeAll(source.layer, RatingsPublisher.layerMemory, RunLog.layerMemory)
      const { collection, result } = yield* Effect.gen(function* () {
        const collection = yield* collectPages({ pages: 10, concurrency: 4 })
        const result = yield* runCycle({ pages: 10, concurrency: 4, decimals: 1 })
        return { collection, result }
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(source.record.requested, [1, 2, 3, 1, 2, 3])
      assert.strictEqual(collection.pagesRequested, 10)
      assert.strictEqual(collection.pagesRead, 3)
      assert.strictEqual(result.report.outcome, "succeeded")
      assert.strictEqual(result.report.pagesRequested, 10)
      assert.strictEqual(result.report.pagesRead, 3)
      assert.strictEqual(result.report.movies, 3)
    })
  )

  it.effect("returns pages in page order", () =>
    Effect.gen(function* () {
      // Page p takes 11 - p seconds, so pages 2 to 10, all in flight at once, finish from 10 down to 2.
      const source = instrumentedSource(syntheticPages(10, 10), {
        delay: (page) => (page === 1 ? undefined : Duration.seconds(11 - page))
      })
      const progress: Array<readonly [number, number, number]> = []
      const collection = yield* runFor(
        "1 minute",
        collectPages({
          pages: 10,
          concurrency: 9,
          onPageRead: ({ page, read, total }) => Effect.sync(() => progress.push([page, read, total]))
        }).pipe(Effect.provide(source.layer))
      )
      assert.deepStrictEqual(source.record.completed, [1, 10, 9, 8, 7, 6, 5, 4, 3, 2])
      assert.deepStrictEqual(
        collection.pages.map((page) => page.page),
        range(1, 10)
      )
      assert.deepStrictEqual(progress, [
        [1, 1, 10],
        [10, 2, 10],
        [9, 3, 10],
        [8, 4, 10],
        [7, 5, 10],
        [6, 6, 10],
        [5, 7, 10],
        [4, 8, 10],
        [3, 9, 10],
        [2, 10, 10]
      ])
    })
  )

  it.effect("fails on the first failing page and interrupts the rest", () =>
    Effect.gen(function* () {
      const error = new PageReadError({ page: 3, reason: "http-status", status: 500, detail: "HTTP 500" })
      const source = instrumentedSource(syntheticPages(10, 10), {
        delay: (page) => {
          if (page === 1) return undefined
          return page === 3 ? "1 second" : "10 seconds"
        },
        fail: (page) => (page === 3 ? error : undefined)
      })
      const failure = yield* runFor(
        "1 minute",
        Effect.flip(collectPages({ pages: 10, concurrency: 4 }).pipe(Effect.provide(source.layer)))
      )
      assert.strictEqual(failure, error)
      assert.deepStrictEqual(source.record.requested, [1, 2, 3, 4, 5])
      assert.deepStrictEqual(source.record.interrupted, [2, 4, 5])
      assert.strictEqual(source.record.inFlight, 0)
    })
  )

  it.effect("logs a warning per empty page", () =>
    Effect.gen(function* () {
      const pages = syntheticPages(10, 10).map((page) =>
        page.page === 4 || page.page === 7 ? { ...page, results: [] } : page
      )
      const [collection, logs] = yield* withCapturedLogs(
        collectPages({ pages: 10, concurrency: 4 }).pipe(Effect.provide(TopRatedSource.layerMemory(pages)))
      )
      assert.deepStrictEqual(collection.emptyPages, [4, 7])
      assert.strictEqual(collection.pagesRead, 10)
      const warnings = logs.filter((line) => line.level === "Warn")
      assert.deepStrictEqual(
        warnings.map((line) => [line.message, line.annotations["page"]]),
        [
          ["Top-rated page has no results", 4],
          ["Top-rated page has no results", 7]
        ]
      )
    })
  )

  it.effect("rejects a concurrency below 1", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        collectPages({ pages: 10, concurrency: 0 }).pipe(
          Effect.provide(TopRatedSource.layerMemory(syntheticPages(10, 10)))
        )
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      assert.instanceOf(defect, RangeError)
      assert.strictEqual(
        (defect as RangeError).message,
        "Invalid collection options: pages 10 and concurrency 0 must be positive integers"
      )
    })
  )
})

describe("runCycle with a failing page", () => {
  it.effect("publishes nothing and records the page", () =>
    Effect.gen(function* () {
      const source = instrumentedSource(syntheticPages(10, 10), {
        delay: (page) => (page === 7 ? "2 seconds" : "1 second"),
        fail: (page) =>
          page === 7
            ? new PageReadError({ page: 7, reason: "http-status", status: 502, detail: "HTTP 502 after 4 attempts" })
            : undefined
      })
      const layer = Layer.mergeAll(source.layer, RatingsPublisher.layerMemory, RunLog.layerMemory)
      const { result, deliveries, runs } = yield* runFor(
        "1 minute",
        Effect.gen(function* () {
          const result = yield* runCycle({ pages: 10, concurrency: 4, decimals: 1 })
          const deliveries = yield* MemoryPublisher.use((memory) => memory.deliveries)
          const runs = yield* RunLog.use((runLog) => runLog.recent(10))
          return { result, deliveries, runs }
        }).pipe(Effect.provide(layer))
      )
      const expectedFailure = { page: 7, reason: "Page 7 could not be read (http-status): HTTP 502 after 4 attempts" }
      assert.strictEqual(deliveries.length, 0)
      assert.deepStrictEqual(result.rows, [])
      assert.strictEqual(result.report.outcome, "failed")
      assert.deepStrictEqual(result.report.failure, expectedFailure)
      assert.strictEqual(runs.length, 1)
      assert.strictEqual(runs[0]?.runId, result.report.runId)
      assert.strictEqual(runs[0]?.outcome, "failed")
      assert.deepStrictEqual(runs[0]?.failure, expectedFailure)
      assert.strictEqual(runs[0]?.deliveryId, null)
      assert.strictEqual(runs[0]?.pagesRead, 0)
    })
  )
})
