import { PgClient } from "@effect/sql-pg"
import { assert, describe, it, layer } from "@effect/vitest"
import { PgRatingsRepository } from "@tmdb-yearly/adapters"
import { RatingsRepository, StorageError } from "@tmdb-yearly/core"
import type { Delivery } from "@tmdb-yearly/core"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { createServer } from "node:net"
import { pgTestLayer, TestDatabase, withClient } from "../../../testing/postgres.ts"

const at = (iso: string): DateTime.Utc => DateTime.makeUnsafe(iso)

const delivery = (id: string, rows: Delivery["rows"]): Delivery => ({ id, rows })

const THREE_YEARS = [
  { year: 1990, voteAverage: 8.1, quantity: 10 },
  { year: 1994, voteAverage: 8.5, quantity: 3 },
  { year: 2001, voteAverage: 7.902, quantity: 1 }
]

/** A repository on a new database, for tests that read every delivery. */
const repositoryLayer = (prefix: string, options: { readonly maxConnections?: number } = {}) =>
  PgRatingsRepository.layer.pipe(Layer.provideMerge(pgTestLayer(prefix, options)))

/** Counts the rows of one delivery in both tables. */
const countRows = (deliveryId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [counts] = yield* sql<{ deliveries: number; ratings: number }>`
      SELECT
        (SELECT count(*)::int FROM webhook_deliveries WHERE id = ${deliveryId}) AS deliveries,
        (SELECT count(*)::int FROM yearly_ratings WHERE delivery_id = ${deliveryId}) AS ratings`
    return counts
  })

// These tests share one database and use distinct delivery ids.
layer(repositoryLayer("ratings_store"))("PgRatingsRepository.store", (it) => {
  it.effect("stores the delivery and its rows", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const result = yield* repository.store(delivery("store-once", THREE_YEARS), at("2026-02-17T10:00:00Z"))
      assert.deepStrictEqual(result, { stored: true, rows: 3 })
      assert.deepStrictEqual(yield* countRows("store-once"), { deliveries: 1, ratings: 3 })
    })
  )

  it.effect("same delivery again stores nothing", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const first = yield* repository.store(delivery("store-twice", THREE_YEARS), at("2026-02-17T10:00:00Z"))
      const second = yield* repository.store(delivery("store-twice", THREE_YEARS), at("2026-02-17T10:05:00Z"))
      assert.deepStrictEqual(first, { stored: true, rows: 3 })
      assert.deepStrictEqual(second, { stored: false, rows: 3 })
      assert.deepStrictEqual(yield* countRows("store-twice"), { deliveries: 1, ratings: 3 })
    })
  )

  it.effect("50 concurrent copies store one row set", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const copies = Array.from({ length: 50 }, () =>
        repository.store(delivery("store-concurrent", THREE_YEARS), at("2026-02-17T10:00:00Z"))
      )
      const results = yield* Effect.all(copies, { concurrency: "unbounded" })
      assert.strictEqual(results.filter((result) => result.stored).length, 1)
      assert.strictEqual(results.filter((result) => !result.stored).length, 49)
      assert.isTrue(results.every((result) => result.rows === 3))
      assert.deepStrictEqual(yield* countRows("store-concurrent"), { deliveries: 1, ratings: 3 })
    })
  )

  it.effect("failing row rolls back the delivery", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      // The delivery row and the first two year rows are valid, but quantity 0 breaks a CHECK constraint.
      const rows = [...THREE_YEARS.slice(0, 2), { year: 2002, voteAverage: 7, quantity: 0 }]
      const error = yield* repository
        .store(delivery("store-rollback", rows), at("2026-02-17T10:00:00Z"))
        .pipe(Effect.flip)
      assert.instanceOf(error, StorageError)
      assert.strictEqual(error.operation, "RatingsRepository.store")
      assert.strictEqual(
        error.detail,
        'ConstraintError: PgConnection: Query failed (SQLSTATE 23514: new row for relation "yearly_ratings" ' +
          'violates check constraint "yearly_ratings_quantity_check")'
      )
      assert.deepStrictEqual(yield* countRows("store-rollback"), { deliveries: 0, ratings: 0 })
    })
  )

  it.effect("failing step after the inserts rolls back", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const sql = yield* SqlClient.SqlClient
      // The repository's statements join the transaction opened here, which then fails after them.
      const error = yield* sql
        .withTransaction(
          Effect.gen(function* () {
            yield* repository.store(delivery("store-injected", THREE_YEARS), at("2026-02-17T10:00:00Z"))
            assert.deepStrictEqual(yield* countRows("store-injected"), { deliveries: 1, ratings: 3 })
            return yield* Effect.fail("injected failure")
          })
        )
        .pipe(Effect.flip)
      assert.strictEqual(error, "injected failure")
      assert.deepStrictEqual(yield* countRows("store-injected"), { deliveries: 0, ratings: 0 })
    })
  )

  it.effect("delivery without rows is stored", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const result = yield* repository.store(delivery("store-empty", []), at("2026-02-17T10:00:00Z"))
      assert.deepStrictEqual(result, { stored: true, rows: 0 })
      assert.deepStrictEqual(yield* countRows("store-empty"), { deliveries: 1, ratings: 0 })
    })
  )

  it.effect("numeric values come back as numbers", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const sql = yield* SqlClient.SqlClient
      const rows = [
        { year: 1980, voteAverage: 0, quantity: 1 },
        { year: 1981, voteAverage: 8.1, quantity: 2 },
        { year: 1982, voteAverage: 7.902, quantity: 3 },
        { year: 1983, voteAverage: 10, quantity: 4 }
      ]
      yield* repository.store(delivery("store-numeric", rows), at("2026-02-17T10:00:00Z"))
      const stored = yield* sql<{ year: number; vote_average: string }>`
        SELECT year, vote_average FROM yearly_ratings WHERE delivery_id = 'store-numeric' ORDER BY year`
      assert.deepStrictEqual(
        stored.map((row) => row.vote_average),
        ["0.000", "8.100", "7.902", "10.000"]
      )
      for (const row of rows) {
        const history = yield* repository.yearHistory(row.year)
        const entry = history.find((candidate) => candidate.deliveryId === "store-numeric")
        assert.strictEqual(entry?.voteAverage, row.voteAverage)
        assert.strictEqual(entry?.quantity, row.quantity)
      }
    })
  )
})

describe("PgRatingsRepository.latest", () => {
  it.live("is empty before the first delivery", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      assert.deepStrictEqual(yield* repository.latest, Option.none())
    }).pipe(Effect.provide(repositoryLayer("latest_empty")))
  )

  it.live("returns the newest delivery", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const sql = yield* SqlClient.SqlClient
      yield* repository.store(delivery("older", THREE_YEARS), at("2026-02-17T10:00:00Z"))
      yield* repository.store(
        delivery("newest", [
          { year: 1990, voteAverage: 8.2, quantity: 11 },
          { year: 1957, voteAverage: 8.4, quantity: 2 }
        ]),
        at("2026-02-17T11:00:00.250Z")
      )
      // Stored last but received earlier, as a delayed retry would be.
      yield* repository.store(delivery("delayed", THREE_YEARS), at("2026-02-17T10:30:00Z"))

      const latest = yield* repository.latest
      assert.deepStrictEqual(
        latest,
        Option.some({
          id: "newest",
          receivedAt: at("2026-02-17T11:00:00.250Z"),
          rows: [
            { year: 1957, voteAverage: 8.4, quantity: 2 },
            { year: 1990, voteAverage: 8.2, quantity: 11 }
          ]
        })
      )

      const view = yield* sql<{ delivery_id: string; year: number; vote_average: string; quantity: number }>`
        SELECT delivery_id, year, vote_average, quantity FROM latest_yearly_ratings ORDER BY year`
      assert.deepStrictEqual(view, [
        { delivery_id: "newest", year: 1957, vote_average: "8.400", quantity: 2 },
        { delivery_id: "newest", year: 1990, vote_average: "8.200", quantity: 11 }
      ])
    }).pipe(Effect.provide(repositoryLayer("latest_newest")))
  )

  it.live("breaks a tie by storing order", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      yield* repository.store(delivery("first", THREE_YEARS), at("2026-02-17T10:00:00Z"))
      yield* repository.store(delivery("second", []), at("2026-02-17T10:00:00Z"))
      const latest = yield* repository.latest
      assert.deepStrictEqual(latest, Option.some({ id: "second", receivedAt: at("2026-02-17T10:00:00Z"), rows: [] }))
    }).pipe(Effect.provide(repositoryLayer("latest_tie")))
  )
})

describe("PgRatingsRepository.yearHistory", () => {
  it.live("lists one entry per delivery in order", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      yield* repository.store(
        delivery("march", [{ year: 1994, voteAverage: 8.45, quantity: 4 }]),
        at("2026-03-01T00:00:00Z")
      )
      yield* repository.store(delivery("january", THREE_YEARS), at("2026-01-01T00:00:00Z"))
      yield* repository.store(
        delivery("february", [{ year: 1990, voteAverage: 8, quantity: 9 }]),
        at("2026-02-01T00:00:00Z")
      )
      assert.deepStrictEqual(yield* repository.yearHistory(1994), [
        { deliveryId: "january", receivedAt: at("2026-01-01T00:00:00Z"), voteAverage: 8.5, quantity: 3 },
        { deliveryId: "march", receivedAt: at("2026-03-01T00:00:00Z"), voteAverage: 8.45, quantity: 4 }
      ])
      assert.deepStrictEqual(yield* repository.yearHistory(1995), [])
    }).pipe(Effect.provide(repositoryLayer("year_history")))
  )
})

describe("PgRatingsRepository connections", () => {
  it.live("write after pg_terminate_backend succeeds", () =>
    Effect.gen(function* () {
      const repository = yield* RatingsRepository
      const sql = yield* SqlClient.SqlClient
      const database = yield* TestDatabase
      yield* repository.store(delivery("before-kill", THREE_YEARS), at("2026-02-17T10:00:00Z"))
      const [before] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`

      const terminated = yield* withClient(
        database.adminUrl,
        Effect.gen(function* () {
          const admin = yield* SqlClient.SqlClient
          // MATERIALIZED picks the targets first: in a plain WHERE, PostgreSQL may call pg_terminate_backend
          // before the other conditions and end sessions of other databases or this one.
          return yield* admin<{ pid: number }>`
            WITH targets AS MATERIALIZED (
              SELECT pid FROM pg_stat_activity WHERE datname = ${database.name} AND pid <> pg_backend_pid()
            )
            SELECT pid FROM targets WHERE pg_terminate_backend(pid)`
        })
      )
      assert.deepStrictEqual(
        terminated.map((row) => row.pid),
        [before?.pid]
      )

      const result = yield* repository.store(delivery("after-kill", THREE_YEARS), at("2026-02-17T10:01:00Z"))
      assert.deepStrictEqual(result, { stored: true, rows: 3 })
      assert.deepStrictEqual(yield* countRows("after-kill"), { deliveries: 1, ratings: 3 })
      const [after] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`
      assert.notStrictEqual(after?.pid, before?.pid)
    }).pipe(Effect.provide(repositoryLayer("terminate", { maxConnections: 1 })))
  )

  it.live("unreachable database fails without the password", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(
        () =>
          new Promise<number>((resolve) => {
            const probe = createServer()
            probe.listen(0, "127.0.0.1", () => {
              const address = probe.address()
              probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
            })
          })
      )
      const url = Redacted.make(`postgres://postgres:secret-password@127.0.0.1:${port}/postgres`)
      const error = yield* Effect.gen(function* () {
        const repository = yield* RatingsRepository
        return yield* repository.latest
      }).pipe(
        Effect.provide(
          PgRatingsRepository.layer.pipe(Layer.provide(PgClient.layer({ url, connectTimeout: "1 second" })))
        ),
        Effect.flip
      )
      assert.instanceOf(error, StorageError)
      assert.strictEqual(error.operation, "RatingsRepository.latest")
      assert.notInclude(error.message, "secret-password")
      assert.notInclude(error.message, String(port))
      assert.match(error.detail, /^ConnectionError: .*\(ECONNREFUSED\)$/)
    })
  )
})
