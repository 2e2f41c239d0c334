import { assert, describe, it } from "@effect/vitest"
import { StorageError } from "@tmdb-yearly/core"
import { Effect, Ref } from "effect"
import { SqlError } from "effect/sql"
import { describeSqlFailure, isConnectionLost, storageOperation } from "../src/internal/pgStorage.ts"

/** A server error as @effect/sql-pg 4.1.5 reports it: the PostgreSQL fields on an Error cause. */
const serverError = (code: string, message: string) =>
  new SqlError.SqlError({
    reason: new SqlError.UnknownError({
      cause: Object.assign(new Error(message), { code, severity: "FATAL" }),
      message: "PgConnection: Query failed"
    })
  })

const refusedConnection = new SqlError.SqlError({
  reason: new SqlError.ConnectionError({
    cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    message: "PgConnection: Failed to connect"
  })
})

const uniqueViolation = new SqlError.SqlError({
  reason: new SqlError.UniqueViolation({
    cause: Object.assign(new Error('duplicate key value violates unique constraint "job_runs_pkey"'), {
      code: "23505"
    }),
    message: "PgConnection: Query failed",
    constraint: "job_runs_pkey"
  })
})

/** An effect that fails with `errors` in turn, then succeeds with the number of calls. */
const failingThenSucceeding = (errors: ReadonlyArray<unknown>) =>
  Effect.gen(function* () {
    const calls = yield* Ref.make(0)
    const effect = Effect.gen(function* () {
      const call = yield* Ref.updateAndGet(calls, (count) => count + 1)
      const error = errors[call - 1]
      if (error !== undefined) return yield* Effect.fail(error)
      return call
    })
    return { effect, calls }
  })

describe("isConnectionLost", () => {
  it("classifies connection and server errors", () => {
    assert.isTrue(isConnectionLost(refusedConnection))
    assert.isTrue(isConnectionLost(serverError("57P01", "terminating connection due to administrator command")))
    assert.isTrue(isConnectionLost(serverError("57P02", "terminating connection because of crash of another")))
    assert.isTrue(isConnectionLost(serverError("57P03", "the database system is shutting down")))
    assert.isFalse(isConnectionLost(serverError("57014", "canceling statement due to user request")))
    assert.isFalse(isConnectionLost(uniqueViolation))
    assert.isFalse(isConnectionLost(new Error("not a SQL error")))
  })
})

describe("describeSqlFailure", () => {
  it("names the reason and the server message", () => {
    assert.strictEqual(
      describeSqlFailure(uniqueViolation),
      'UniqueViolation: PgConnection: Query failed (SQLSTATE 23505: duplicate key value violates unique constraint "job_runs_pkey")'
    )
  })

  it("keeps only the system code of a connect failure", () => {
    assert.strictEqual(
      describeSqlFailure(refusedConnection),
      "ConnectionError: PgConnection: Failed to connect (ECONNREFUSED)"
    )
  })
})

describe("storageOperation", () => {
  it.live("retries a terminated connection", () =>
    Effect.gen(function* () {
      const { effect, calls } = yield* failingThenSucceeding([
        serverError("57P01", "terminating connection due to administrator command"),
        refusedConnection
      ])
      const result = yield* effect.pipe(storageOperation("Test.retry"))
      assert.strictEqual(result, 3)
      assert.strictEqual(yield* Ref.get(calls), 3)
    })
  )

  it.live("gives up after 3 retries", () =>
    Effect.gen(function* () {
      const { effect, calls } = yield* failingThenSucceeding(Array.from({ length: 5 }, () => refusedConnection))
      const error = yield* effect.pipe(storageOperation("Test.giveUp"), Effect.flip)
      assert.strictEqual(yield* Ref.get(calls), 4)
      assert.deepStrictEqual(
        error,
        new StorageError({
          operation: "Test.giveUp",
          detail: "ConnectionError: PgConnection: Failed to connect (ECONNREFUSED)"
        })
      )
    })
  )

  it.live("does not retry other failures", () =>
    Effect.gen(function* () {
      const { effect, calls } = yield* failingThenSucceeding([uniqueViolation])
      const error = yield* effect.pipe(storageOperation("Test.noRetry"), Effect.flip)
      assert.strictEqual(yield* Ref.get(calls), 1)
      assert.strictEqual(error.operation, "Test.noRetry")
    })
  )

  it.live("passes a StorageError through", () =>
    Effect.gen(function* () {
      const original = new StorageError({ operation: "RunLog.start", detail: "run r1 is already recorded" })
      const error = yield* Effect.fail(original).pipe(storageOperation("Test.passThrough"), Effect.flip)
      assert.strictEqual(error, original)
    })
  )
})
