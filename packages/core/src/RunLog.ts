import { Context } from "effect"
import type { DateTime, Effect, Option } from "effect"
import type { RunReport } from "./RunReport.ts"
import type { StorageError } from "./StorageError.ts"

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
>()("@tmdb-yearly/core/RunLog") {}
