import { PgClient } from "@effect/sql-pg"
import { PgDatabase, type PgDatabaseError } from "@tmdb-yearly/adapters"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { randomBytes } from "node:crypto"
import { inject } from "vitest"

/** A database created for one test file or block, on the server of the test run. */
export class TestDatabase extends Context.Service<
  TestDatabase,
  {
    /** Database name, unique within the test run. */
    readonly name: string
    /** URL of this database. */
    readonly url: Redacted.Redacted<string>
    /** Superuser URL of the server's `postgres` database, for statements such as `pg_terminate_backend`. */
    readonly adminUrl: Redacted.Redacted<string>
  }
>()("@tmdb-yearly/testing/TestDatabase") {}

/** Superuser URL of the server that `testing/postgresGlobalSetup.ts` started or took from `TEST_DATABASE_URL`. */
export const adminDatabaseUrl = (): Redacted.Redacted<string> => Redacted.make(inject("postgresAdminUrl"))

/** Runs `effect` with a one-connection client of `url`. */
export const withClient = <A, E, R>(
  url: Redacted.Redacted<string>,
  effect: Effect.Effect<A, E, R | SqlClient.SqlClient>
): Effect.Effect<A, E | SqlError.SqlError, Exclude<R, SqlClient.SqlClient | PgClient.PgClient>> =>
  Effect.provide(effect, PgClient.layer({ url, maxConnections: 1 }))

const withDatabaseName = (url: Redacted.Redacted<string>, name: string): Redacted.Redacted<string> => {
  const parsed = new URL(Redacted.value(url))
  parsed.pathname = `/${name}`
  return Redacted.make(parsed.toString())
}

/**
 * Creates an empty database with a unique name (`test_<prefix>_<random>`) and drops it, with `WITH (FORCE)`,
 * when the layer is released. `prefix` may contain lowercase letters, digits and underscores.
 */
export const testDatabaseLayer = (prefix: string): Layer.Layer<TestDatabase, SqlError.SqlError> =>
  Layer.effect(
    TestDatabase,
    Effect.gen(function* () {
      if (!/^[a-z0-9_]{1,30}$/.test(prefix)) {
        return yield* Effect.die(new RangeError(`Invalid test database prefix ${prefix}: expected [a-z0-9_]{1,30}`))
      }
      const adminUrl = adminDatabaseUrl()
      const name = `test_${prefix}_${randomBytes(6).toString("hex")}`
      const admin = (statement: string) =>
        withClient(
          adminUrl,
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            yield* sql.unsafe(statement)
          })
        )
      yield* Effect.acquireRelease(admin(`CREATE DATABASE ${name}`), () =>
        admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.orDie)
      )
      return TestDatabase.of({ name, url: withDatabaseName(adminUrl, name), adminUrl })
    })
  )

/**
 * A fresh migrated database for a test file: `PgDatabase.layer` on a new database from `testDatabaseLayer`,
 * with at most `maxConnections` connections (default 4).
 */
export const pgTestLayer = (
  prefix: string,
  options: { readonly maxConnections?: number } = {}
): Layer.Layer<TestDatabase | PgClient.PgClient | SqlClient.SqlClient, PgDatabaseError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const database = yield* TestDatabase
      return PgDatabase.layer({ url: database.url, maxConnections: options.maxConnections ?? 4 })
    })
  ).pipe(Layer.provideMerge(testDatabaseLayer(prefix)))
