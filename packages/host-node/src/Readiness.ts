import { MIGRATIONS_TABLE, pgMigrations } from "@tmdb-yearly/adapters"
import { StorageError } from "@tmdb-yearly/core"
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { withReadTimeout } from "./DatabaseReadTimeout.ts"

/** Highest migration version the adapters know, from keys such as `2_create_job_runs`. */
const LATEST_MIGRATION = Math.max(...Object.keys(pgMigrations).map((key) => Number.parseInt(key, 10)))

/** The check behind `GET /health/ready`: the database is reachable and every migration is applied. */
export class Readiness extends Context.Service<
  Readiness,
  {
    /** Succeeds when the service can store and read deliveries, and fails with the reason otherwise. */
    readonly check: Effect.Effect<void, StorageError>
  }
>()("@tmdb-yearly/host-node/Readiness") {
  /** Always ready, for the in-memory stores. */
  static readonly layerMemory: Layer.Layer<Readiness> = Layer.succeed(Readiness, Readiness.of({ check: Effect.void }))

  /**
   * Ready when PostgreSQL responds within `DATABASE_READ_TIMEOUT` and its migrations table records the latest
   * migration that the adapters define.
   */
  static readonly layerSql: Layer.Layer<Readiness, never, SqlClient.SqlClient> = Layer.effect(
    Readiness,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const fail = (detail: string) => new StorageError({ operation: "Readiness.check", detail })
      const check = Effect.gen(function* () {
        const rows = yield* sql<{ readonly latest: number | null }>`
          SELECT max(migration_id)::int AS latest FROM ${sql(MIGRATIONS_TABLE)}`
        const latest = rows[0]?.latest ?? null
        if (latest === null || latest < LATEST_MIGRATION) {
          return yield* fail(`the schema is at migration ${latest ?? "none"}, expected ${LATEST_MIGRATION}`)
        }
      }).pipe(
        Effect.catchTag("SqlError", (error) => Effect.fail(fail(error.message))),
        withReadTimeout("Readiness.check")
      )
      return Readiness.of({ check })
    })
  )
}
