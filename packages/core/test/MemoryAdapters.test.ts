import { assert, describe, it } from "@effect/vitest"
import {
  MemoryPublisher,
  RatingsPublisher,
  RatingsRepository,
  RunLog,
  RunReport,
  TopRatedSource
} from "@tmdb-yearly/core"
import type { TopRatedPage } from "@tmdb-yearly/core"
import { DateTime, Effect, Option } from "effect"

const page = (number: number): TopRatedPage => ({
  page: number,
  results: [{ id: number, release_date: "2001-01-01", vote_average: 7 }],
  total_pages: 2,
  total_results: 2
})

const at = (millis: number): DateTime.Utc => DateTime.makeUnsafe(millis)

const report = (runId: string, startedAt: number, fields: Partial<RunReport> = {}): RunReport =>
  new RunReport({
    runId,
    startedAt: at(startedAt),
    finishedAt: null,
    pagesRequested: 10,
    pagesRead: 0,
    movies: 0,
    duplicates: 0,
    undated: 0,
    years: 0,
    deliveryId: null,
    outcome: "running",
    failure: null,
    ...fields
  })

describe("TopRatedSource.layerMemory", () => {
  it.effect("serves pages by number", () =>
    Effect.gen(function* () {
      const source = yield* TopRatedSource
      const second = yield* source.readPage(2)
      assert.strictEqual(second.page, 2)
      assert.strictEqual(second.results[0]?.id, 2)
    }).pipe(Effect.provide(TopRatedSource.layerMemory([page(1), page(2)])))
  )

  it.effect("fails with no-such-page beyond the pages", () =>
    Effect.gen(function* () {
      const source = yield* TopRatedSource
      const error = yield* Effect.flip(source.readPage(3))
      assert.strictEqual(error._tag, "PageReadError")
      assert.strictEqual(error.page, 3)
      assert.strictEqual(error.reason, "no-such-page")
      assert.strictEqual(error.status, null)
    }).pipe(Effect.provide(TopRatedSource.layerMemory([page(1), page(2)])))
  )
})

describe("RatingsRepository.layerMemory", () => {
  const rows = [
    { year: 1990, voteAverage: 8.1, quantity: 10 },
    { year: 1991, voteAverage: 7.5, quantity: 2 }
  ]

  it.effect("stores a delivery id once", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const first = yield* repository.store({ id: "d1", rows }, at(1_000))
      const again = yield* repository.store({ id: "d1", rows: rows.slice(0, 1) }, at(2_000))
      assert.deepStrictEqual(first, { stored: true, rows: 2 })
      assert.deepStrictEqual(again, { stored: false, rows: 2 })
      const latest = yield* repository.latest
      assert.isTrue(Option.isSome(latest))
      if (Option.isSome(latest)) {
        assert.strictEqual(latest.value.id, "d1")
        assert.deepStrictEqual(latest.value.rows, rows)
        assert.strictEqual(DateTime.toEpochMillis(latest.value.receivedAt), 1_000)
      }
    }).pipe(Effect.provide(RatingsRepository.layerMemory))
  )

  it.effect("orders latest and history by receive time", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      assert.isTrue(Option.isNone(yield* repository.latest))
      yield* repository.store({ id: "late", rows: [{ year: 1990, voteAverage: 8, quantity: 3 }] }, at(5_000))
      yield* repository.store({ id: "early", rows }, at(1_000))
      const latest = yield* repository.latest
      assert.strictEqual(Option.getOrUndefined(latest)?.id, "late")
      const history = yield* repository.yearHistory(1990)
      assert.deepStrictEqual(
        history.map((entry) => [
          entry.deliveryId,
          DateTime.toEpochMillis(entry.receivedAt),
          entry.voteAverage,
          entry.quantity
        ]),
        [
          ["early", 1_000, 8.1, 10],
          ["late", 5_000, 8, 3]
        ]
      )
      assert.strictEqual((yield* repository.yearHistory(1991)).length, 1)
      assert.deepStrictEqual(yield* repository.yearHistory(1800), [])
    }).pipe(Effect.provide(RatingsRepository.layerMemory))
  )
})

describe("RunLog.layerMemory", () => {
  it.effect("replaces a started run with its final report", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      yield* runLog.start(report("a", 1_000))
      yield* runLog.finish(report("a", 1_000, { outcome: "succeeded", finishedAt: at(4_000), movies: 200 }))
      const recent = yield* runLog.recent(10)
      assert.strictEqual(recent.length, 1)
      assert.strictEqual(recent[0]?.outcome, "succeeded")
      assert.strictEqual(recent[0]?.movies, 200)
      const lastSuccess = yield* runLog.lastSuccess
      assert.strictEqual(Option.map(lastSuccess, DateTime.toEpochMillis).pipe(Option.getOrUndefined), 4_000)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("orders recent runs newest first", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      yield* runLog.start(report("old", 1_000))
      yield* runLog.finish(report("old", 1_000, { outcome: "succeeded", finishedAt: at(2_000) }))
      yield* runLog.start(report("failed", 3_000))
      yield* runLog.finish(
        report("failed", 3_000, { outcome: "failed", finishedAt: at(4_000), failure: { page: 2, reason: "x" } })
      )
      yield* runLog.start(report("running", 5_000))
      const recent = yield* runLog.recent(2)
      assert.deepStrictEqual(
        recent.map((run) => run.runId),
        ["running", "failed"]
      )
      const lastSuccess = yield* runLog.lastSuccess
      assert.strictEqual(Option.map(lastSuccess, DateTime.toEpochMillis).pipe(Option.getOrUndefined), 2_000)
    }).pipe(Effect.provide(RunLog.layerMemory))
  )

  it.effect("rejects a repeated start and an unknown finish", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      yield* runLog.start(report("a", 1_000))
      const repeated = yield* Effect.flip(runLog.start(report("a", 1_000)))
      const unknown = yield* Effect.flip(runLog.finish(report("b", 1_000, { outcome: "failed" })))
      assert.strictEqual(repeated.operation, "RunLog.start")
      assert.strictEqual(unknown.operation, "RunLog.finish")
      assert.strictEqual(unknown.detail, "run b was never started")
    }).pipe(Effect.provide(RunLog.layerMemory))
  )
})

describe("RatingsPublisher.layerMemory", () => {
  it.effect("keeps every delivery in call order", () =>
    Effect.gen(function* () {
      const publisher = yield* RatingsPublisher
      const memory = yield* MemoryPublisher
      yield* publisher.publish({ id: "one", rows: [] })
      yield* publisher.publish({ id: "two", rows: [{ year: 2000, voteAverage: 7, quantity: 1 }] })
      yield* publisher.publish({ id: "one", rows: [] })
      const deliveries = yield* memory.deliveries
      assert.deepStrictEqual(
        deliveries.map((delivery) => delivery.id),
        ["one", "two", "one"]
      )
      assert.deepStrictEqual(deliveries[1]?.rows, [{ year: 2000, voteAverage: 7, quantity: 1 }])
    }).pipe(Effect.provide(RatingsPublisher.layerMemory))
  )
})
