import { assert, describe, it } from "@effect/vitest"
import {
  makeJobRunner,
  RatingsPublisher,
  runCycle,
  RunLog,
  RunReport,
  StorageError,
  TopRatedSource
} from "@tmdb-yearly/core"
import type { CycleResult } from "@tmdb-yearly/core"
import { Clock, DateTime, Duration, Effect, Exit, Fiber, Layer, Metric, Option, Scope } from "effect"
import { TestClock } from "effect/testing"
import { withCapturedLogs } from "../../../testing/LogCapture.ts"
import { recordedPages } from "../../../testing/topRatedFixture.ts"

const INTERVAL = "30 minutes"
const MINUTE = 60_000

/** A start and end of one fake run, in minutes of test-clock time. The end is null while it runs. */
type Span = [start: number, end: number | null]

/** How a fake run ends. */
type Ending = "succeeded" | "failed" | "storage-error" | "defect"

const report = (outcome: "succeeded" | "failed"): RunReport =>
  new RunReport({
    runId: "fake",
    startedAt: DateTime.makeUnsafe(0),
    finishedAt: DateTime.makeUnsafe(0),
    pagesRequested: 10,
    pagesRead: 10,
    movies: 0,
    duplicates: 0,
    undated: 0,
    years: 0,
    deliveryId: null,
    outcome,
    failure: outcome === "failed" ? { page: 3, reason: "HTTP 500" } : null
  })

/**
 * Builds a cycle that records its span in `spans`, takes `duration` of clock time, and ends with the entry
 * of `endings` for its run number, or succeeds when the list is shorter. Its report has the given run id.
 */
const fakeCycle =
  (
    spans: Array<Span>,
    options: { readonly duration?: Duration.Input; readonly endings?: ReadonlyArray<Ending> } = {}
  ) =>
  (runId: string): Effect.Effect<CycleResult, StorageError> =>
    Effect.gen(function* () {
      const span: Span = [(yield* Clock.currentTimeMillis) / MINUTE, null]
      const runNumber = spans.push(span) - 1
      if (options.duration !== undefined) yield* Effect.sleep(options.duration)
      span[1] = (yield* Clock.currentTimeMillis) / MINUTE
      const ending = options.endings?.[runNumber] ?? "succeeded"
      if (ending === "storage-error") {
        return yield* new StorageError({ operation: "RunLog.start", detail: "connection refused" })
      }
      if (ending === "defect") return yield* Effect.die(new Error("unexpected state in the fake cycle"))
      return { report: new RunReport({ ...report(ending), runId }), rows: [] }
    })

const starts = (spans: ReadonlyArray<Span>): Array<number> => spans.map(([start]) => start)

/** Records a succeeded run that finished at the current test-clock time. */
const recordSuccessNow = Effect.gen(function* () {
  const runLog = yield* RunLog
  const now = DateTime.makeUnsafe(yield* Clock.currentTimeMillis)
  const started = new RunReport({ ...report("succeeded"), runId: "earlier", startedAt: now, finishedAt: null })
  yield* runLog.start(new RunReport({ ...started, outcome: "running" }))
  yield* runLog.finish(new RunReport({ ...started, finishedAt: now }))
})

describe("makeJobRunner", () => {
  it.effect("runs at 0, 30 and 60 minutes", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans) })
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("60 minutes")
      assert.deepStrictEqual(spans, [
        [0, 0],
        [30, 30],
        [60, 60]
      ])
      yield* TestClock.adjust("29 minutes")
      assert.strictEqual(spans.length, 3)
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("spaces a long run from its end", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans, { duration: "45 minutes" }) })
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("200 minutes")
      assert.deepStrictEqual(spans, [
        [0, 45],
        [75, 120],
        [150, 195]
      ])
      for (const [index, [start]] of spans.entries()) {
        const previousEnd = index === 0 ? null : spans[index - 1]![1]
        if (previousEnd !== null) assert.isAtLeast(start, previousEnd + 30)
      }
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("goes on after failed runs", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const cycle = fakeCycle(spans, { endings: ["storage-error", "defect", "failed", "succeeded"] })
      const [, logs] = yield* withCapturedLogs(
        Effect.gen(function* () {
          const runner = yield* makeJobRunner({ interval: INTERVAL, cycle })
          const loop = yield* Effect.forkChild(runner.loop)
          yield* TestClock.adjust("90 minutes")
          yield* Fiber.interrupt(loop)
        })
      )
      assert.deepStrictEqual(starts(spans), [0, 30, 60, 90])
      const errors = logs.filter((line) => line.level === "Error").map((line) => line.message)
      assert.deepStrictEqual(errors, ["Scheduled run failed", "Scheduled run failed"])
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("waits out the interval after a recent success", () =>
    Effect.gen(function* () {
      yield* recordSuccessNow
      yield* TestClock.adjust("10 minutes")
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans) })
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("19 minutes")
      assert.deepStrictEqual(spans, [])
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(spans, [[30, 30]])
      yield* TestClock.adjust("30 minutes")
      assert.deepStrictEqual(starts(spans), [30, 60])
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("runs at once after an old success", () =>
    Effect.gen(function* () {
      yield* recordSuccessNow
      yield* TestClock.adjust("31 minutes")
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans) })
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(spans, [[31, 31]])
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("runNow fails while a run is in progress", () =>
    Effect.gen(function* () {
      // The real cycle over pages 1 to 10, where each page takes one minute: a run lasts 4 minutes.
      const memory = TopRatedSource.makeMemory(recordedPages(1, 10))
      const slowSource = Layer.succeed(
        TopRatedSource,
        TopRatedSource.of({ readPage: (page) => Effect.sleep("1 minute").pipe(Effect.andThen(memory.readPage(page))) })
      )
      const context = yield* Layer.build(Layer.mergeAll(slowSource, RatingsPublisher.layerMemory, RunLog.layerMemory))
      const cycle = (runId: string) =>
        runCycle({ pages: 10, concurrency: 4, decimals: 1, runId }).pipe(Effect.provideContext(context))
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle }).pipe(Effect.provideContext(context))

      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("2 minutes")
      const runningId = (yield* RunLog.use((runLog) => runLog.recent(1)).pipe(Effect.provideContext(context)))[0]?.runId
      const error = yield* Effect.flip(runner.runNow)

      assert.isTrue(yield* runner.isRunning)
      assert.strictEqual(error._tag, "RunInProgress")
      assert.strictEqual(error._tag === "RunInProgress" ? error.runId : undefined, runningId)
      assert.isString(runningId)

      yield* TestClock.adjust("2 minutes")
      assert.isFalse(yield* runner.isRunning)
      const runs = yield* RunLog.use((runLog) => runLog.recent(10)).pipe(Effect.provideContext(context))
      assert.deepStrictEqual(
        runs.map((run) => run.outcome),
        ["succeeded"]
      )
      yield* Fiber.interrupt(loop)
    })
  )

  it.effect("spaces the next run from a runNow", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      let duration: Duration.Input | undefined
      const cycle = (runId: string) =>
        Effect.suspend(() => fakeCycle(spans, duration === undefined ? {} : { duration })(runId))
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle })
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("10 minutes")

      duration = "5 minutes"
      const manual = yield* Effect.forkChild(runner.runNow)
      yield* TestClock.adjust("5 minutes")
      const result = yield* Fiber.join(manual)
      assert.strictEqual(result.report.outcome, "succeeded")
      duration = undefined

      yield* TestClock.adjust("29 minutes")
      assert.deepStrictEqual(spans, [
        [0, 0],
        [10, 15]
      ])
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(spans, [
        [0, 0],
        [10, 15],
        [45, 45]
      ])
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("runNow runs at once when idle", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans, { endings: ["failed"] }) })
      yield* TestClock.adjust("7 minutes")
      const result = yield* runner.runNow
      assert.strictEqual(result.report.outcome, "failed")
      assert.deepStrictEqual(spans, [[7, 7]])
      assert.isFalse(yield* runner.isRunning)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("runNow raises a storage error", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({
        interval: INTERVAL,
        cycle: fakeCycle(spans, { endings: ["storage-error"] })
      })
      const error = yield* Effect.flip(runner.runNow)
      assert.strictEqual(error._tag, "StorageError")
      assert.isFalse(yield* runner.isRunning)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("stops a run when the loop is interrupted", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans, { duration: "45 minutes" }) })
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("10 minutes")
      assert.isTrue(yield* runner.isRunning)
      yield* Fiber.interrupt(loop)
      assert.isFalse(yield* runner.isRunning)
      assert.deepStrictEqual(spans, [[0, null]])
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("registers the run metrics at zero", () =>
    Effect.gen(function* () {
      yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle([]) })
      const snapshot = yield* Metric.snapshot
      const series = snapshot.map((metric) => [metric.id, metric.attributes?.["outcome"] ?? null])
      assert.deepStrictEqual(series, [
        ["tmdb_yearly_runs_total", "succeeded"],
        ["tmdb_yearly_runs_total", "failed"],
        ["tmdb_yearly_run_duration_seconds", null]
      ])
    }).pipe(Effect.provide(RunLog.layerMemory), Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("runNow names the run from memory", () =>
    Effect.gen(function* () {
      let recentCalls = 0
      const failingRecent = Layer.succeed(
        RunLog,
        RunLog.of({
          lastSuccess: Effect.succeed(Option.none()),
          start: () => Effect.void,
          finish: () => Effect.void,
          recent: () =>
            Effect.suspend(() => {
              recentCalls++
              return Effect.fail(new StorageError({ operation: "RunLog.recent", detail: "connection refused" }))
            })
        })
      )
      const runIds: Array<string> = []
      const cycle = (runId: string) =>
        Effect.sync(() => runIds.push(runId)).pipe(Effect.andThen(fakeCycle([], { duration: "5 minutes" })(runId)))
      const error = yield* Effect.gen(function* () {
        const runner = yield* makeJobRunner({ interval: INTERVAL, cycle })
        const loop = yield* Effect.forkChild(runner.loop)
        yield* TestClock.adjust("1 minute")
        const error = yield* Effect.flip(runner.runNow)
        yield* Fiber.interrupt(loop)
        return error
      }).pipe(Effect.provide(failingRecent))

      assert.strictEqual(error._tag, "RunInProgress")
      assert.strictEqual(runIds.length, 1)
      assert.strictEqual(error._tag === "RunInProgress" ? error.runId : undefined, runIds[0])
      assert.strictEqual(error.message, `Run ${runIds[0]} is in progress: try again after it finishes`)
      assert.strictEqual(recentCalls, 0)
    })
  )

  it.effect("start returns the id at once", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const ids: Array<string> = []
      const cycle = (runId: string) => {
        ids.push(runId)
        return fakeCycle(spans, { duration: "5 minutes" })(runId)
      }
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle })
      const scope = yield* Scope.make()
      yield* TestClock.adjust("10 minutes")

      const runId = yield* runner.start.pipe(Scope.provide(scope))
      assert.deepStrictEqual(ids, [runId])
      assert.match(runId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.isTrue(yield* runner.isRunning)
      assert.deepStrictEqual(spans, [[10, null]])

      yield* TestClock.adjust("5 minutes")
      assert.deepStrictEqual(spans, [[10, 15]])
      assert.isFalse(yield* runner.isRunning)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("start fails while a run is in progress", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans, { duration: "45 minutes" }) })
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("10 minutes")
      const error = yield* Effect.flip(runner.start.pipe(Effect.scoped))
      assert.strictEqual(error._tag, "RunInProgress")
      assert.deepStrictEqual(spans, [[0, null]])
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("spaces the next run from a start", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      let duration: Duration.Input | undefined
      const cycle = (runId: string) =>
        Effect.suspend(() => fakeCycle(spans, duration === undefined ? {} : { duration })(runId))
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle })
      const scope = yield* Scope.make()
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("10 minutes")

      duration = "5 minutes"
      yield* runner.start.pipe(Scope.provide(scope))
      yield* TestClock.adjust("5 minutes")
      duration = undefined

      yield* TestClock.adjust("29 minutes")
      assert.deepStrictEqual(spans, [
        [0, 0],
        [10, 15]
      ])
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(spans, [
        [0, 0],
        [10, 15],
        [45, 45]
      ])
      yield* Fiber.interrupt(loop)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("start logs a failed run and frees the lock", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const [, logs] = yield* withCapturedLogs(
        Effect.gen(function* () {
          const runner = yield* makeJobRunner({
            interval: INTERVAL,
            cycle: fakeCycle(spans, { endings: ["storage-error", "succeeded"] })
          })
          yield* runner.start.pipe(Effect.scoped)
          yield* TestClock.adjust("1 minute")
          assert.isFalse(yield* runner.isRunning)
          const result = yield* runner.runNow
          assert.strictEqual(result.report.outcome, "succeeded")
        })
      )
      assert.deepStrictEqual(starts(spans), [0, 1])
      const errors = logs.filter((line) => line.level === "Error").map((line) => line.message)
      assert.deepStrictEqual(errors, ["Requested run failed"])
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("closing the scope interrupts a started run", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans, { duration: "45 minutes" }) })
      const scope = yield* Scope.make()
      yield* runner.start.pipe(Scope.provide(scope))
      yield* TestClock.adjust("1 minute")
      yield* Scope.close(scope, Exit.void)
      assert.isFalse(yield* runner.isRunning)
      assert.deepStrictEqual(spans, [[0, null]])
      const second = yield* Effect.exit(runner.start.pipe(Effect.scoped))
      assert.isTrue(Exit.isSuccess(second), "the lock was released")
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("start into a closed scope runs nothing", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans) })
      const scope = yield* Scope.make()
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Effect.exit(runner.start.pipe(Scope.provide(scope)))
      assert.isTrue(Exit.hasInterrupts(exit))
      assert.deepStrictEqual(spans, [])
      assert.isFalse(yield* runner.isRunning)
      const result = yield* runner.runNow
      assert.strictEqual(result.report.outcome, "succeeded")
      assert.deepStrictEqual(spans, [[0, 0]])
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("nextRunAt is one interval after the last end", () =>
    Effect.gen(function* () {
      const spans: Array<Span> = []
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle(spans, { duration: "5 minutes" }) })
      assert.isTrue(Option.isNone(yield* runner.nextRunAt), "no run has ended yet")
      const loop = yield* Effect.forkChild(runner.loop)
      yield* TestClock.adjust("1 minute")
      assert.isTrue(Option.isNone(yield* runner.nextRunAt), "a run is in progress")
      yield* TestClock.adjust("4 minutes")
      const next = yield* runner.nextRunAt
      assert.strictEqual(Option.map(next, DateTime.toEpochMillis).pipe(Option.getOrNull), 35 * MINUTE)
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("nextRunAt after a recent success", () =>
    Effect.gen(function* () {
      yield* recordSuccessNow
      yield* TestClock.adjust("10 minutes")
      const runner = yield* makeJobRunner({ interval: INTERVAL, cycle: fakeCycle([]) })
      const next = yield* runner.nextRunAt
      assert.strictEqual(Option.map(next, DateTime.toEpochMillis).pipe(Option.getOrNull), 30 * MINUTE)
      yield* TestClock.adjust("40 minutes")
      const overdue = yield* runner.nextRunAt
      assert.strictEqual(Option.map(overdue, DateTime.toEpochMillis).pipe(Option.getOrNull), 50 * MINUTE)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )
})
