import { RunLog, RunOutcome, RunReport, StorageError } from "@tmdb-yearly/core"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { storageOperation } from "./internal/pgStorage.ts"

const JobRunRow = Schema.Struct({
  run_id: Schema.String,
  started_at: Schema.DateTimeUtcFromDate,
  finished_at: Schema.NullOr(Schema.DateTimeUtcFromDate),
  pages_requested: Schema.Int,
  pages_read: Schema.Int,
  movies: Schema.Int,
  duplicates: Schema.Int,
  undated: Schema.Int,
  years: Schema.Int,
  delivery_id: Schema.NullOr(Schema.String),
  outcome: RunOutcome,
  failure_page: Schema.NullOr(Schema.Int),
  failure_reason: Schema.NullOr(Schema.String)
})
type JobRunRow = typeof JobRunRow.Type

const decodeJobRuns = Schema.decodeUnknownEffect(Schema.Array(JobRunRow))
const decodeLastSuccess = Schema.decodeUnknownEffect(
  Schema.Array(Schema.Struct({ finished_at: Schema.NullOr(Schema.DateTimeUtcFromDate) }))
)

const toReport = (row: JobRunRow): RunReport =>
  new RunReport({
    runId: row.run_id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    pagesRequested: row.pages_requested,
    pagesRead: row.pages_read,
    movies: row.movies,
    duplicates: row.duplicates,
    undated: row.undated,
    years: row.years,
    deliveryId: row.delivery_id,
    outcome: row.outcome,
    // `failure_reason` is NULL exactly when the report has no failure. A CHECK constraint rejects a page without
    // a reason.
    failure: row.failure_reason === null ? null : { page: row.failure_page, reason: row.failure_reason }
  })

/** The `job_runs` columns of a report. */
const toColumns = (report: RunReport) => ({
  run_id: report.runId,
  started_at: DateTime.toDateUtc(report.startedAt),
  finished_at: report.finishedAt === null ? null : DateTime.toDateUtc(report.finishedAt),
  pages_requested: report.pagesRequested,
  pages_read: report.pagesRead,
  movies: report.movies,
  duplicates: report.duplicates,
  undated: report.undated,
  years: report.years,
  delivery_id: report.deliveryId,
  outcome: report.outcome,
  failure_page: report.failure?.page ?? null,
  failure_reason: report.failure?.reason ?? null
})

const makeRunLog = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const lastSuccess = Effect.gen(function* () {
    const rows = yield* decodeLastSuccess(
      yield* sql`SELECT max(finished_at) AS finished_at FROM job_runs WHERE outcome = 'succeeded'`
    )
    return Option.fromNullishOr(rows[0]?.finished_at)
  }).pipe(storageOperation("RunLog.lastSuccess"), Effect.withSpan("RunLog.lastSuccess"))

  // NOTE: when a connection is lost after the insert committed, the retry finds the row and fails with
  // "already recorded", although this call recorded it.
  const start = Effect.fn("RunLog.start")((report: RunReport) =>
    Effect.gen(function* () {
      const inserted = yield* sql`
        INSERT INTO job_runs ${sql.insert(toColumns(report))}
        ON CONFLICT (run_id) DO NOTHING
        RETURNING run_id`
      if (inserted.length === 0) {
        return yield* new StorageError({ operation: "RunLog.start", detail: `run ${report.runId} is already recorded` })
      }
    }).pipe(storageOperation("RunLog.start"))
  )

  const finish = Effect.fn("RunLog.finish")((report: RunReport) =>
    Effect.gen(function* () {
      const columns = toColumns(report)
      const updated = yield* sql`
        UPDATE job_runs SET ${sql.update(columns, ["run_id"])}
        WHERE run_id = ${report.runId}
        RETURNING run_id`
      if (updated.length === 0) {
        return yield* new StorageError({ operation: "RunLog.finish", detail: `run ${report.runId} was never started` })
      }
    }).pipe(storageOperation("RunLog.finish"))
  )

  const recent = Effect.fn("RunLog.recent")((limit: number) =>
    Effect.gen(function* () {
      const rows = yield* decodeJobRuns(
        yield* sql`
          SELECT run_id, started_at, finished_at, pages_requested, pages_read, movies, duplicates, undated,
            years, delivery_id, outcome, failure_page, failure_reason
          FROM job_runs
          ORDER BY started_at DESC, seq DESC
          LIMIT ${Math.max(0, Math.floor(limit))}`
      )
      return rows.map(toReport)
    }).pipe(storageOperation("RunLog.recent"))
  )

  return RunLog.of({ lastSuccess, start, finish, recent })
})

/**
 * The job's run history in the PostgreSQL table `job_runs`, created by `PgMigrations`.
 *
 * `start` fails with `StorageError` when the run id is already recorded, and `finish` when it was never
 * started. `recent` orders runs by `startedAt`, newest first, and runs started at the same instant by the
 * order of `start` calls, later first. Timestamps keep their millisecond precision. Every operation fails with
 * `StorageError` naming it, after retrying a lost connection.
 */
export const PgRunLog: { readonly layer: Layer.Layer<RunLog, never, SqlClient.SqlClient> } = {
  layer: Layer.effect(RunLog, makeRunLog)
}
