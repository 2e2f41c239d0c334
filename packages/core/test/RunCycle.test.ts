import { assert, describe, it } from "@effect/vitest"
import {
  deliveryIdForRun,
  MemoryPublisher,
  PublishError,
  RatingsPublisher,
  runCycle,
  runDurationSeconds,
  RunLog,
  runsTotal,
  StorageError,
  TopRatedSource,
  YearlyRatingsPayload
} from "@tmdb-yearly/core"
import { Cause, DateTime, Effect, Exit, Fiber, Layer, Metric, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { PAGES_1_TO_10_TABLE } from "../../../testing/goldenTable.ts"
import { withCapturedLogs } from "../../../testing/LogCapture.ts"
import { recordedPages } from "../../../testing/topRatedFixture.ts"

const options = { pages: 10, concurrency: 4, decimals: 1 }

const memoryLayer = Layer.mergeAll(
  TopRatedSource.layerMemory(recordedPages(1, 10)),
  RatingsPublisher.layerMemory,
  RunLog.layerMemory
)

const memorySource = TopRatedSource.makeMemory(recordedPages(1, 10))

/** The in-memory source of pages 1 to 10, where every read takes one second of clock time. */
const slowSource = Layer.succeed(
  TopRatedSource,
  TopRatedSource.of({
    readPage: (page) => Effect.sleep("1 second").pipe(Effect.andThen(memorySource.readPage(page)))
  })
)

const failingPublisher = Layer.succeed(
  RatingsPublisher,
  RatingsPublisher.of({
    publish: (delivery) =>
      Effect.fail(new PublishError({ deliveryId: delivery.id, status: 503, detail: "receiver unavailable" }))
  })
)

const publishedDeliveries = MemoryPublisher.use((memory) => memory.deliveries)
const recentRuns = RunLog.use((runLog) => runLog.recent(10))

describe("runCycle", () => {
  it.effect("publishes the pages 1 to 10 table", () =>
    Effect.gen(function* () {
      const result = yield* runCycle(options)
      const deliveries = yield* publishedDeliveries
      const runs = yield* recentRuns

      assert.strictEqual(deliveries.length, 1)
      const delivery = deliveries[0]!
      assert.deepStrictEqual(Schema.encodeSync(YearlyRatingsPayload)(delivery.rows), PAGES_1_TO_10_TABLE)
      assert.strictEqual(delivery.id, deliveryIdForRun(result.report.runId))
      assert.deepStrictEqual(result.rows, delivery.rows)

      assert.strictEqual(runs.length, 1)
      const run = runs[0]!
      assert.strictEqual(run.runId, result.report.runId)
      assert.strictEqual(run.outcome, "succeeded")
      assert.strictEqual(run.pagesRequested, 10)
      assert.strictEqual(run.pagesRead, 10)
      assert.strictEqual(run.movies, 200)
      assert.strictEqual(run.duplicates, 0)
      assert.strictEqual(run.undated, 0)
      assert.strictEqual(run.years, 72)
      assert.strictEqual(run.deliveryId, delivery.id)
      assert.strictEqual(run.failure, null)
      assert.deepStrictEqual(run, result.report)
    }).pipe(Effect.provide(memoryLayer))
  )

  it.effect("records start and end times from the clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2026, 1, 17, 12, 0, 0))
      const fiber = yield* Effect.forkChild(runCycle(options))
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(fiber)
      // Page 1 alone, then pages 2 to 10 four at a time: 1 + 3 reads of one second each.
      assert.strictEqual(DateTime.formatIso(result.report.startedAt), "2026-02-17T12:00:00.000Z")
      assert.strictEqual(
        Option.fromNullishOr(result.report.finishedAt).pipe(Option.map(DateTime.formatIso), Option.getOrNull),
        "2026-02-17T12:00:04.000Z"
      )
    }).pipe(Effect.provide(Layer.mergeAll(slowSource, RatingsPublisher.layerMemory, RunLog.layerMemory)))
  )

  it.effect("records a rejected delivery as failed", () =>
    Effect.gen(function* () {
      const result = yield* runCycle(options)
      const runs = yield* recentRuns
      const expectedReason = `Delivery ${deliveryIdForRun(result.report.runId)} was not accepted (HTTP 503): receiver unavailable`

      assert.deepStrictEqual(result.rows, [])
      assert.strictEqual(result.report.outcome, "failed")
      assert.deepStrictEqual(result.report.failure, { page: null, reason: expectedReason })
      assert.strictEqual(result.report.pagesRead, 10)
      assert.strictEqual(result.report.movies, 200)
      assert.strictEqual(result.report.years, 72)
      assert.strictEqual(result.report.deliveryId, null)
      assert.strictEqual(runs.length, 1)
      assert.deepStrictEqual(runs[0], result.report)
    }).pipe(
      Effect.provide(
        Layer.mergeAll(TopRatedSource.layerMemory(recordedPages(1, 10)), failingPublisher, RunLog.layerMemory)
      )
    )
  )

  it.effect("records an interrupted run as failed", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(runCycle(options))
      yield* TestClock.adjust("2500 millis")
      yield* Fiber.interrupt(fiber)
      const runs = yield* recentRuns
      const deliveries = yield* publishedDeliveries

      assert.strictEqual(runs.length, 1)
      const run = runs[0]!
      assert.strictEqual(run.outcome, "failed")
      assert.deepStrictEqual(run.failure, { page: null, reason: "interrupted" })
      assert.strictEqual(
        Option.fromNullishOr(run.finishedAt).pipe(Option.map(DateTime.toEpochMillis), Option.getOrNull),
        2500
      )
      assert.strictEqual(deliveries.length, 0)
    }).pipe(Effect.provide(Layer.mergeAll(slowSource, RatingsPublisher.layerMemory, RunLog.layerMemory)))
  )

  it.effect("records a defect as failed and raises it", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(runCycle({ ...options, decimals: 7 }))
      const runs = yield* recentRuns
      const reason = "unexpected error: Invalid number of vote_average decimals 7: expected an integer from 0 to 3"

      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      assert.strictEqual(runs.length, 1)
      assert.strictEqual(runs[0]?.outcome, "failed")
      assert.deepStrictEqual(runs[0]?.failure, { page: null, reason })
      assert.strictEqual((yield* publishedDeliveries).length, 0)
    }).pipe(Effect.provide(memoryLayer))
  )

  it.effect("raises a run log failure before reading", () =>
    Effect.gen(function* () {
      let pagesRead = 0
      const countingSource = Layer.succeed(
        TopRatedSource,
        TopRatedSource.of({
          readPage: (page) => Effect.sync(() => pagesRead++).pipe(Effect.andThen(memorySource.readPage(page)))
        })
      )
      const brokenRunLog = Layer.succeed(
        RunLog,
        RunLog.of({
          lastSuccess: Effect.succeed(Option.none()),
          start: () => Effect.fail(new StorageError({ operation: "RunLog.start", detail: "connection refused" })),
          finish: () => Effect.void,
          recent: () => Effect.succeed([])
        })
      )
      const error = yield* Effect.flip(runCycle(options)).pipe(
        Effect.provide(Layer.mergeAll(countingSource, RatingsPublisher.layerMemory, brokenRunLog))
      )
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual(error.detail, "connection refused")
      assert.strictEqual(pagesRead, 0)
    })
  )

  it.effect("logs the start and the end of a run", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(withCapturedLogs(runCycle(options)))
      yield* TestClock.adjust("1 minute")
      const [result, logs] = yield* Fiber.join(fiber)
      const runId = result.report.runId
      const lines = logs.map((line) => [line.level, line.message, line.annotations] as const)

      assert.deepStrictEqual(lines, [
        ["Info", "Run started", { run_id: runId, pages_requested: 10 }],
        [
          "Info",
          "Run finished",
          {
            run_id: runId,
            outcome: "succeeded",
            pages_read: 10,
            movies: 200,
            duplicates: 0,
            undated: 0,
            years: 72,
            delivery_id: deliveryIdForRun(runId),
            duration_ms: 4000
          }
        ]
      ])
    }).pipe(Effect.provide(Layer.mergeAll(slowSource, RatingsPublisher.layerMemory, RunLog.layerMemory)))
  )

  it.effect("counts runs by outcome", () =>
    Effect.gen(function* () {
      yield* runCycle(options).pipe(Effect.provide(memoryLayer))
      yield* runCycle(options).pipe(Effect.provide(memoryLayer))
      yield* runCycle(options).pipe(
        Effect.provide(
          Layer.mergeAll(TopRatedSource.layerMemory(recordedPages(1, 10)), failingPublisher, RunLog.layerMemory)
        )
      )
      const succeeded = yield* Metric.value(Metric.withAttributes(runsTotal, { outcome: "succeeded" }))
      const failed = yield* Metric.value(Metric.withAttributes(runsTotal, { outcome: "failed" }))
      const durations = yield* Metric.value(runDurationSeconds)
      assert.strictEqual(succeeded.count, 2)
      assert.strictEqual(failed.count, 1)
      assert.strictEqual(durations.count, 3)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )
})
