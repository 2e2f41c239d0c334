import { assert, describe, it, layer } from "@effect/vitest"
import { PgRunLog } from "@tmdb-yearly/adapters"
import { RunLog, RunReport, StorageError } from "@tmdb-yearly/core"
import { DateTime, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { pgTestLayer } from "../../../testing/postgres.ts"

const at = (iso: string): DateTime.Utc => DateTime.makeUnsafe(iso)

const runLogLayer = (prefix: string) => PgRunLog.layer.pipe(Layer.provideMerge(pgTestLayer(prefix)))

/** A report of a run that has just started: counts are zero and the outcome is `running`. */
const started = (runId: string, startedAt: string): RunReport =>
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
    failure: null
  })

const succeeded = (runId: string, startedAt: string, finishedAt: string): RunReport =>
  new RunReport({
    ...started(runId, startedAt),
    finishedAt: at(finishedAt),
    pagesRead: 10,
    movies: 200,
    duplicates: 2,
    undated: 1,
    years: 57,
    deliveryId: `delivery-${runId}`,
    outcome: "succeeded"
  })

const failed = (runId: string, startedAt: string, finishedAt: string, page: number | null): RunReport =>
  new RunReport({
    ...started(runId, startedAt),
    finishedAt: at(finishedAt),
    pagesRead: 6,
    movies: 120,
    outcome: "failed",
    failure: { page, reason: page === null ? "webhook returned HTTP 400" : `page ${page} timed out` }
  })

// These tests share one database and use distinct run ids.
layer(runLogLayer("run_log"))("PgRunLog start and finish", (it) => {
  it.effect("start records a running report", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      const sql = yield* SqlClient.SqlClient
      const report = started("run-start", "2026-02-17T10:00:00.123Z")
      yield* runLog.start(report)
      const rows = yield* sql<{ run_id: string; outcome: string; pages_requested: number }>`
        SELECT run_id, outcome, pages_requested FROM job_runs WHERE run_id = 'run-start'`
      assert.deepStrictEqual(rows, [{ run_id: "run-start", outcome: "running", pages_requested: 10 }])
    })
  )

  it.effect("finish replaces the started report", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      const sql = yield* SqlClient.SqlClient
      yield* runLog.start(started("run-finish", "2026-02-17T10:00:00.123Z"))
      const final = failed("run-finish", "2026-02-17T10:00:00.123Z", "2026-02-17T10:00:04.567Z", 7)
      yield* runLog.finish(final)
      const rows = yield* sql<{ outcome: string; failure_page: number | null; failure_reason: string | null }>`
        SELECT outcome, failure_page, failure_reason FROM job_runs WHERE run_id = 'run-finish'`
      assert.deepStrictEqual(rows, [{ outcome: "failed", failure_page: 7, failure_reason: "page 7 timed out" }])
    })
  )

  it.effect("second start of a run fails", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      yield* runLog.start(started("run-twice", "2026-02-17T10:00:00Z"))
      const error = yield* runLog.start(started("run-twice", "2026-02-17T10:30:00Z")).pipe(Effect.flip)
      assert.deepStrictEqual(
        error,
        new StorageError({ operation: "RunLog.start", detail: "run run-twice is already recorded" })
      )
    })
  )

  it.effect("finish of an unknown run fails", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      const error = yield* runLog
        .finish(succeeded("run-unknown", "2026-02-17T10:00:00Z", "2026-02-17T10:00:05Z"))
        .pipe(Effect.flip)
      assert.deepStrictEqual(
        error,
        new StorageError({ operation: "RunLog.finish", detail: "run run-unknown was never started" })
      )
    })
  )
})

describe("PgRunLog.recent", () => {
  it.live("round-trips reports exactly", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      const first = succeeded("run-1", "2026-02-17T09:00:00.001Z", "2026-02-17T09:00:03.999Z")
      const second = failed("run-2", "2026-02-17T09:30:00.500Z", "2026-02-17T09:30:01.250Z", 7)
      const third = failed("run-3", "2026-02-17T10:00:00Z", "2026-02-17T10:00:09Z", null)
      const fourth = started("run-4", "2026-02-17T10:30:00.042Z")
      for (const report of [first, second, third, fourth]) {
        yield* runLog.start(started(report.runId, DateTime.formatIso(report.startedAt)))
        if (report.outcome !== "running") yield* runLog.finish(report)
      }
      assert.deepStrictEqual(yield* runLog.recent(10), [fourth, third, second, first])
      assert.deepStrictEqual(yield* runLog.recent(2), [fourth, third])
      assert.deepStrictEqual(yield* runLog.recent(0), [])
    }).pipe(Effect.provide(runLogLayer("run_log_recent")))
  )

  it.live("orders equal start times by start order", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      yield* runLog.start(started("tie-a", "2026-02-17T10:00:00Z"))
      yield* runLog.start(started("tie-b", "2026-02-17T10:00:00Z"))
      yield* runLog.start(started("earlier", "2026-02-17T09:00:00Z"))
      const runIds = (yield* runLog.recent(10)).map((report) => report.runId)
      assert.deepStrictEqual(runIds, ["tie-b", "tie-a", "earlier"])
    }).pipe(Effect.provide(runLogLayer("run_log_ties")))
  )
})

describe("PgRunLog.lastSuccess", () => {
  it.live("is empty without a succeeded run", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      assert.deepStrictEqual(yield* runLog.lastSuccess, Option.none())
      yield* runLog.start(started("only-failed", "2026-02-17T10:00:00Z"))
      yield* runLog.finish(failed("only-failed", "2026-02-17T10:00:00Z", "2026-02-17T10:00:02Z", 3))
      assert.deepStrictEqual(yield* runLog.lastSuccess, Option.none())
    }).pipe(Effect.provide(runLogLayer("last_success_none")))
  )

  it.live("returns the latest end of a succeeded run", () =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      const reports = [
        succeeded("ok-early", "2026-02-17T09:00:00Z", "2026-02-17T09:00:05.250Z"),
        succeeded("ok-late", "2026-02-17T09:30:00Z", "2026-02-17T09:30:07.125Z"),
        failed("failed-later", "2026-02-17T10:00:00Z", "2026-02-17T10:00:02Z", 4)
      ]
      for (const report of reports) {
        yield* runLog.start(started(report.runId, DateTime.formatIso(report.startedAt)))
        yield* runLog.finish(report)
      }
      yield* runLog.start(started("still-running", "2026-02-17T10:30:00Z"))
      assert.deepStrictEqual(yield* runLog.lastSuccess, Option.some(at("2026-02-17T09:30:07.125Z")))
    }).pipe(Effect.provide(runLogLayer("last_success")))
  )
})
