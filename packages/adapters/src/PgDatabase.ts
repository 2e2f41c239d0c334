import { PgClient, type PgMigrator } from "@effect/sql-pg"
import { Config, Effect, Layer, Schedule } from "effect"
import type { Redacted } from "effect"
import type { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql"
import { describeSqlFailure, isConnectionLost } from "./internal/pgStorage.ts"
import { runPgMigrations } from "./PgMigrations.ts"

/** Options of `PgDatabase.layer`. */
export interface PgDatabaseOptions {
  /** `postgres://user:password@host:port/database` URL. It is never logged or put in an error. */
  readonly url: Redacted.Redacted<string>
  /** Upper bound of the connection pool. Default 4. */
  readonly maxConnections?: number
}

/** Errors of building the database layer: a connection that failed, or a migration that did not apply. */
export type PgDatabaseError = SqlError.SqlError | PgMigrator.MigrationError

const DEFAULT_MAX_CONNECTIONS = 4
const STARTUP_CONNECT_RETRIES = 5

/**
 * Applies the migrations, retrying a refused connection for about 3 s in all (5 retries, 100 ms doubling),
 * because a database started alongside the service may accept connections a little later.
 */
const migrateAtStartup = Layer.effectDiscard(
  Effect.suspend(() => {
    let failures = 0
    return runPgMigrations.pipe(
      Effect.tapError((error) => {
        failures++
        if (!isConnectionLost(error) || failures > STARTUP_CONNECT_RETRIES) return Effect.void
        return Effect.logWarning("Database not reachable at start-up, retrying").pipe(
          Effect.annotateLogs({ attempt: failures + 1, error: describeSqlFailure(error) })
        )
      }),
      Effect.retry({
        while: isConnectionLost,
        times: STARTUP_CONNECT_RETRIES,
        schedule: Schedule.exponential("100 millis")
      })
    )
  })
)

const layer = (options: PgDatabaseOptions): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, PgDatabaseError> =>
  migrateAtStartup.pipe(
    Layer.provideMerge(
      PgClient.layer({
        url: options.url,
        maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
        minConnections: 0,
        connectTimeout: "5 seconds",
        idleTimeout: "60 seconds",
        applicationName: "tmdb-yearly"
      })
    )
  )

/**
 * The PostgreSQL connection pool, with the schema migrated to the latest version when the layer is built.
 *
 * The pool opens connections on demand (at most `maxConnections`, default 4, each within a 5 s connect timeout)
 * and closes idle ones after 60 s. A connection that the server closed is dropped at its next use and
 * replaced, and the adapters' operations retry that use, so the service does not need a restart after a
 * database restart.
 */
export const PgDatabase: {
  readonly layer: (options: PgDatabaseOptions) => Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, PgDatabaseError>
  /** `layer` with the URL read from `url`, for example `Config.Redacted("DATABASE_URL")`. */
  readonly layerConfig: (
    url: Config.Config<Redacted.Redacted<string>>
  ) => Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, PgDatabaseError | Config.ConfigError>
} = {
  layer,
  layerConfig: (url) => Layer.unwrap(Effect.map(url, (value) => layer({ url: value })))
}
