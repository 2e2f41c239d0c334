import { RatingsRepository } from "@tmdb-yearly/core"
import type { Delivery, StoredDelivery, StoreResult, YearHistoryEntry } from "@tmdb-yearly/core"
import { Array as Arr, DateTime, Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { storageOperation } from "./internal/pgStorage.ts"

// @effect/sql-pg 4.1.5 returns `numeric` as a string, such as "8.100", to keep its precision. Schema.Number is
// accepted as well, in case another driver or a cast returns a number.
const NumericColumn = Schema.Union([Schema.NumberFromString, Schema.Number])
const TimestampColumn = Schema.DateTimeUtcFromDate

const LatestRow = Schema.Struct({
  id: Schema.String,
  received_at: TimestampColumn,
  year: Schema.NullOr(Schema.Int),
  vote_average: Schema.NullOr(NumericColumn),
  quantity: Schema.NullOr(Schema.Int)
})

const HistoryRow = Schema.Struct({
  delivery_id: Schema.String,
  received_at: TimestampColumn,
  vote_average: NumericColumn,
  quantity: Schema.Int
})

const decodeLatestRows = Schema.decodeUnknownEffect(Schema.Array(LatestRow))
const decodeHistoryRows = Schema.decodeUnknownEffect(Schema.Array(HistoryRow))
const decodeRowCount = Schema.decodeUnknownEffect(Schema.Array(Schema.Struct({ row_count: Schema.Int })))

const makeRepository = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  // The delivery row is inserted first: ON CONFLICT DO NOTHING makes a concurrent copy of the same delivery
  // wait for the first transaction and then insert nothing, so exactly one copy writes its year rows.
  const insertDelivery = (delivery: Delivery, receivedAt: DateTime.Utc) =>
    Effect.gen(function* () {
      const inserted = yield* sql`
        INSERT INTO webhook_deliveries (id, received_at, row_count)
        VALUES (${delivery.id}, ${DateTime.toDateUtc(receivedAt)}, ${delivery.rows.length})
        ON CONFLICT (id) DO NOTHING
        RETURNING id`
      if (inserted.length === 0) {
        const existing = yield* decodeRowCount(
          yield* sql`SELECT row_count FROM webhook_deliveries WHERE id = ${delivery.id}`
        )
        return { stored: false, rows: existing[0]?.row_count ?? 0 } satisfies StoreResult
      }
      const rows = delivery.rows.map((row) => ({
        delivery_id: delivery.id,
        year: row.year,
        vote_average: row.voteAverage,
        quantity: row.quantity
      }))
      if (Arr.isArrayNonEmpty(rows)) yield* sql`INSERT INTO yearly_ratings ${sql.insert(rows)}`
      return { stored: true, rows: rows.length } satisfies StoreResult
    })

  // NOTE: when a connection is lost after the commit, the retry finds the delivery and returns `stored: false`,
  // although this call stored it. The rows are right either way, and the receiver then returns 200 for 201.
  const store = Effect.fn("RatingsRepository.store")((delivery: Delivery, receivedAt: DateTime.Utc) =>
    sql.withTransaction(insertDelivery(delivery, receivedAt)).pipe(storageOperation("RatingsRepository.store"))
  )

  // One statement, so the delivery and its rows come from one snapshot. The LEFT JOIN keeps a delivery
  // without rows.
  const latest = Effect.gen(function* () {
    const rows = yield* decodeLatestRows(
      yield* sql`
        SELECT newest.id, newest.received_at, ratings.year, ratings.vote_average, ratings.quantity
        FROM (
          SELECT id, received_at FROM webhook_deliveries ORDER BY received_at DESC, seq DESC LIMIT 1
        ) AS newest
        LEFT JOIN yearly_ratings AS ratings ON ratings.delivery_id = newest.id
        ORDER BY ratings.year`
    )
    const first = rows[0]
    if (first === undefined) return Option.none<StoredDelivery>()
    const ratings = rows.flatMap((row) =>
      row.year === null || row.vote_average === null || row.quantity === null
        ? []
        : [{ year: row.year, voteAverage: row.vote_average, quantity: row.quantity }]
    )
    return Option.some<StoredDelivery>({ id: first.id, receivedAt: first.received_at, rows: ratings })
  }).pipe(storageOperation("RatingsRepository.latest"), Effect.withSpan("RatingsRepository.latest"))

  const yearHistory = Effect.fn("RatingsRepository.yearHistory")((year: number) =>
    Effect.gen(function* () {
      const rows = yield* decodeHistoryRows(
        yield* sql`
          SELECT ratings.delivery_id, deliveries.received_at, ratings.vote_average, ratings.quantity
          FROM yearly_ratings AS ratings
          JOIN webhook_deliveries AS deliveries ON deliveries.id = ratings.delivery_id
          WHERE ratings.year = ${year}
          ORDER BY deliveries.received_at, deliveries.seq`
      )
      return rows.map((row): YearHistoryEntry => ({
        deliveryId: row.delivery_id,
        receivedAt: row.received_at,
        voteAverage: row.vote_average,
        quantity: row.quantity
      }))
    }).pipe(storageOperation("RatingsRepository.yearHistory"))
  )

  return RatingsRepository.of({ store, latest, yearHistory })
})

/**
 * The receiver's storage in PostgreSQL, in the tables `webhook_deliveries` and `yearly_ratings` created by
 * `PgMigrations`.
 *
 * `store` writes the delivery row and all of its year rows in one transaction, or nothing. It is idempotent on
 * the delivery id: a second copy, also a concurrent one, writes nothing and returns `stored: false` with the
 * row count of the stored copy. Deliveries are ordered by `receivedAt`, and those received at the same instant
 * by the order of storing. `vote_average` is `numeric(5, 3)` and is read back as a number. Every operation
 * fails with `StorageError` naming it, after retrying a lost connection.
 */
export const PgRatingsRepository: {
  readonly layer: Layer.Layer<RatingsRepository, never, SqlClient.SqlClient>
} = {
  layer: Layer.effect(RatingsRepository, makeRepository)
}
