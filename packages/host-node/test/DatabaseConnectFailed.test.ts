import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { SqlClient, SqlError } from "effect/sql"
import { freePort } from "../../../testing/hostProcess.ts"
import { adminDatabaseUrl } from "../../../testing/postgres.ts"
import { DatabaseConnectFailed, describeConnectFailure, postgresAddress } from "../src/DatabaseConnectFailed.ts"

/** Copies the test server's URL and applies `change` to the copy. */
const changedUrl = (change: (url: URL) => void): Redacted.Redacted<string> => {
  const url = new URL(Redacted.value(adminDatabaseUrl()))
  change(url)
  return Redacted.make(url.toString())
}

/** Connects to `url` with one connection and returns what `describeConnectFailure` makes of the failure. */
const connectFailure = (url: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(
      Effect.provide(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`),
        PgClient.layer({ url, maxConnections: 1, connectTimeout: "2 seconds" })
      )
    )
    return describeConnectFailure(url, error)
  })

describe("describeConnectFailure", () => {
  it.live("wrong password names the SQLSTATE only", () =>
    Effect.gen(function* () {
      const url = changedUrl((url) => {
        url.username = "tmdb_nobody"
        url.password = "hunter2secret"
      })
      const failure = yield* connectFailure(url)
      assert.instanceOf(failure, DatabaseConnectFailed)
      assert.strictEqual(failure.address, postgresAddress(url))
      assert.strictEqual(failure.reason, "the server rejected the login (SQLSTATE 28P01)")
      assert.notInclude(failure.message, "tmdb_nobody")
      assert.notInclude(failure.message, "hunter2secret")
      assert.include(failure.message, "Check the user name and password in DATABASE_URL")
    })
  )

  it.live("missing database names it", () =>
    Effect.gen(function* () {
      const url = changedUrl((url) => {
        url.pathname = "/tmdb_yearly_missing_database"
      })
      const failure = yield* connectFailure(url)
      assert.instanceOf(failure, DatabaseConnectFailed)
      assert.strictEqual(failure.reason, 'database "tmdb_yearly_missing_database" does not exist (SQLSTATE 3D000)')
      assert.include(failure.message, "Check the database name in DATABASE_URL")
    })
  )

  it.live("closed port is refused", () =>
    Effect.gen(function* () {
      const port = yield* freePort
      const url = Redacted.make(`postgres://tmdb_nobody:hunter2secret@127.0.0.1:${port}/db`)
      const failure = yield* connectFailure(url)
      assert.instanceOf(failure, DatabaseConnectFailed)
      assert.strictEqual(
        failure.message,
        `Cannot connect to PostgreSQL at 127.0.0.1:${port} (DATABASE_URL): connection refused (ECONNREFUSED). ` +
          "Check that the server is running and reachable from this machine, or unset DATABASE_URL to use the " +
          "embedded server."
      )
    })
  )

  it.live("failure after connecting is kept", () =>
    Effect.gen(function* () {
      const url = adminDatabaseUrl()
      const error = yield* Effect.flip(
        Effect.provide(
          Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT * FROM tmdb_yearly_missing_table`),
          PgClient.layer({ url, maxConnections: 1 })
        )
      )
      assert.strictEqual(describeConnectFailure(url, error), error)
    })
  )

  it("server message hides the role", () => {
    const message = 'too many connections for role "app_user"'
    const cause = Object.assign(new Error(message), { code: "53300", severity: "FATAL", message })
    const error = new SqlError.SqlError({
      reason: new SqlError.UnknownError({ cause, message: "PgConnection: Failed to connect", operation: "connect" })
    })
    const failure = describeConnectFailure(Redacted.make("postgres://app_user:pw@127.0.0.1:5433/app"), error)
    assert.instanceOf(failure, DatabaseConnectFailed)
    assert.strictEqual(failure.reason, 'too many connections for role "<user>" (SQLSTATE 53300)')
  })

  it("address defaults to port 5432", () => {
    assert.strictEqual(postgresAddress(Redacted.make("postgres://u:p@db.internal/app")), "db.internal:5432")
    assert.strictEqual(postgresAddress(Redacted.make("postgresql://u:p@[::1]:6543/app")), "[::1]:6543")
  })
})
