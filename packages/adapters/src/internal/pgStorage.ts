import { StorageError } from "@tmdb-yearly/core"
import { Effect, Schedule } from "effect"
import { SqlError } from "effect/sql"

/** Retries of one storage operation after its database connection was lost. */
const CONNECTION_RETRIES = 3

const SQLSTATE = /^[0-9A-Z]{5}$/

const sqlState = (error: SqlError.SqlError): string | undefined => {
  const cause: unknown = error.reason.cause
  if (typeof cause !== "object" || cause === null || !("code" in cause) || typeof cause.code !== "string") {
    return undefined
  }
  return SQLSTATE.test(cause.code) ? cause.code : undefined
}

/**
 * Returns true when the error means that the connection is gone. That is a socket or connect failure, or a
 * server that ends the session with SQLSTATE 57P01 (`pg_terminate_backend`, smart or fast shutdown), 57P02
 * (crash of another backend) or 57P03 (server starting or stopping). @effect/sql-pg 4.1.5 classifies those three as
 * `UnknownError`. The pool drops such a connection, so the next attempt opens a new one.
 */
export const isConnectionLost = (error: unknown): boolean => {
  if (!SqlError.isSqlError(error)) return false
  if (error.reason._tag === "ConnectionError") return true
  const state = sqlState(error)
  return state === "57P01" || state === "57P02" || state === "57P03"
}

/**
 * Describes a failure without its connection settings: the SQL error reason, and the server's SQLSTATE and
 * message when the server reported the error, or the system error code (such as `ECONNREFUSED`) otherwise.
 */
export const describeSqlFailure = (error: unknown): string => {
  if (!SqlError.isSqlError(error)) return error instanceof Error ? error.message : String(error)
  const reason = error.reason
  const summary = `${reason._tag}: ${reason.message ?? "no message"}`
  const state = sqlState(error)
  if (state !== undefined && reason.cause instanceof Error)
    return `${summary} (SQLSTATE ${state}: ${reason.cause.message})`
  const cause: unknown = reason.cause
  const code = typeof cause === "object" && cause !== null && "code" in cause ? cause.code : undefined
  return typeof code === "string" ? `${summary} (${code})` : summary
}

/**
 * Runs one storage operation. A lost connection is retried up to 3 times, 50 ms apart and doubling, with one
 * warning log line per retry. The pool drops a dead connection and opens a new one, so a server that closed
 * its connections (a restart, `pg_terminate_backend`) costs no failed request. Other failures, and the last
 * connection failure, become a `StorageError` that names `operation`.
 *
 * `effect` is run again on a retry, so it must be safe to repeat: a single statement or a whole transaction.
 */
export const storageOperation =
  (operation: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, StorageError, R> =>
    Effect.suspend(() => {
      let failures = 0
      return effect.pipe(
        Effect.tapError((error) => {
          failures++
          if (!isConnectionLost(error) || failures > CONNECTION_RETRIES) return Effect.void
          return Effect.logWarning("Database connection lost, retrying").pipe(
            Effect.annotateLogs({ operation, attempt: failures + 1, error: describeSqlFailure(error) })
          )
        }),
        Effect.retry({
          while: isConnectionLost,
          times: CONNECTION_RETRIES,
          schedule: Schedule.exponential("50 millis")
        }),
        Effect.mapError((error) =>
          error instanceof StorageError ? error : new StorageError({ operation, detail: describeSqlFailure(error) })
        )
      )
    })
