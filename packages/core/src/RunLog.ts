import { Context, DateTime, Effect, Layer, Option, Ref } from "effect"
import type { RunReport } from "./RunReport.ts"
import { StorageError } from "./StorageError.ts"

/**
 * The job's run history. Reading the last success and starting a run sit in one port so that an atomic
 * claim can later replace them, when several replicas share one database.
 */
export class RunLog extends Context.Service<
  RunLog,
  {
    /** Reads the end time of the most recent succeeded run, if any. */
    readonly lastSuccess: Effect.Effect<Option.Option<DateTime.Utc>, StorageError>
    /** Records a run that has started, with outcome `running`. */
    readonly start: (report: RunReport) => Effect.Effect<void, StorageError>
    /** Replaces the record of a started run with its final report. */
    readonly finish: (report: RunReport) => Effect.Effect<void, StorageError>
    /** Reads the most recent runs, newest first. */
    readonly recent: (limit: number) => Effect.Effect<ReadonlyArray<RunReport>, StorageError>
  }
>()("@tmdb-yearly/core/RunLog") {
  /**
   * A run log kept in memory, empty at first, for tests and examples. `start` fails with `StorageError` when
   * the run id is already recorded, and `finish` when it is not. Runs are ordered by `startedAt`, and runs
   * started at the same instant by the order of `start` calls.
   */
  static readonly layerMemory: Layer.Layer<RunLog> = Layer.effect(
    RunLog,
    Effect.gen(function* () {
      // In the order of `start` calls.
      const runs = yield* Ref.make<ReadonlyArray<RunReport>>([])

      const lastSuccess = Ref.get(runs).pipe(
        Effect.map((reports) => {
          let last: DateTime.Utc | undefined
          for (const report of reports) {
            if (report.outcome !== "succeeded" || report.finishedAt === null) continue
            if (last === undefined || DateTime.toEpochMillis(report.finishedAt) >= DateTime.toEpochMillis(last)) {
              last = report.finishedAt
            }
          }
          return Option.fromUndefinedOr(last)
        }),
        Effect.withSpan("RunLog.lastSuccess")
      )

      const start = Effect.fn("RunLog.start")(function* (report: RunReport) {
        const added = yield* Ref.modify(runs, (reports): readonly [boolean, ReadonlyArray<RunReport>] =>
          reports.some((recorded) => recorded.runId === report.runId) ? [false, reports] : [true, [...reports, report]]
        )
        if (!added) {
          return yield* new StorageError({
            operation: "RunLog.start",
            detail: `run ${report.runId} is already recorded`
          })
        }
      })

      const finish = Effect.fn("RunLog.finish")(function* (report: RunReport) {
        const replaced = yield* Ref.modify(runs, (reports): readonly [boolean, ReadonlyArray<RunReport>] => {
          const index = reports.findIndex((recorded) => recorded.runId === report.runId)
          return index === -1 ? [false, reports] : [true, reports.with(index, report)]
        })
        if (!replaced) {
          return yield* new StorageError({
            operation: "RunLog.finish",
            detail: `run ${report.runId} was never started`
          })
        }
      })

      const recent = Effect.fn("RunLog.recent")(function* (limit: number) {
        const reports = yield* Ref.get(runs)
        // Newest first: reversing the start order first keeps later starts ahead on equal startedAt.
        return [...reports]
          .reverse()
          .sort((left, right) => DateTime.toEpochMillis(right.startedAt) - DateTime.toEpochMillis(left.startedAt))
          .slice(0, Math.max(0, limit))
      })

      return RunLog.of({ lastSuccess, start, finish, recent })
    })
  )
}
