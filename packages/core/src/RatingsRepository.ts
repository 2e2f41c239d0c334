import { Context, DateTime, Effect, Layer, Option, Ref } from "effect"
import type { Delivery, StoredDelivery, YearHistoryEntry } from "./Delivery.ts"
import type { StorageError } from "./StorageError.ts"

/** Result of storing a delivery: `stored` is false when that delivery id was already stored. */
export interface StoreResult {
  readonly stored: boolean
  readonly rows: number
}

/** The receiver's storage of deliveries, one row per year, kept per delivery so that history is preserved. */
export class RatingsRepository extends Context.Service<
  RatingsRepository,
  {
    /** Stores the delivery and all of its rows atomically, or nothing when its id is already stored. */
    readonly store: (delivery: Delivery, receivedAt: DateTime.Utc) => Effect.Effect<StoreResult, StorageError>
    /** Reads the most recently received delivery, if any. */
    readonly latest: Effect.Effect<Option.Option<StoredDelivery>, StorageError>
    /** Reads one year's row from every delivery that has it, oldest first. */
    readonly yearHistory: (year: number) => Effect.Effect<ReadonlyArray<YearHistoryEntry>, StorageError>
  }
>()("@tmdb-yearly/core/RatingsRepository") {
  /**
   * A repository kept in memory, empty at first, for tests and examples. It never fails. When a delivery id
   * is stored again, `store` returns `stored: false` with the row count of the copy already stored.
   * Deliveries are ordered by `receivedAt`, and those received at the same instant by the order of storing.
   */
  static readonly layerMemory: Layer.Layer<RatingsRepository> = Layer.effect(
    RatingsRepository,
    Effect.gen(function* () {
      // In the order of storing. Sorting by receivedAt is stable, so that order breaks ties.
      const deliveries = yield* Ref.make<ReadonlyArray<StoredDelivery>>([])
      const byReceivedAt = (stored: ReadonlyArray<StoredDelivery>): ReadonlyArray<StoredDelivery> =>
        [...stored].sort(
          (left, right) => DateTime.toEpochMillis(left.receivedAt) - DateTime.toEpochMillis(right.receivedAt)
        )

      const store = Effect.fn("RatingsRepository.store")(function* (delivery: Delivery, receivedAt: DateTime.Utc) {
        return yield* Ref.modify(deliveries, (stored): readonly [StoreResult, ReadonlyArray<StoredDelivery>] => {
          const existing = stored.find((candidate) => candidate.id === delivery.id)
          if (existing !== undefined) return [{ stored: false, rows: existing.rows.length }, stored]
          const copy: StoredDelivery = { id: delivery.id, rows: [...delivery.rows], receivedAt }
          return [{ stored: true, rows: copy.rows.length }, [...stored, copy]]
        })
      })

      const latest = Ref.get(deliveries).pipe(
        Effect.map((stored) => Option.fromUndefinedOr(byReceivedAt(stored).at(-1))),
        Effect.withSpan("RatingsRepository.latest")
      )

      const yearHistory = Effect.fn("RatingsRepository.yearHistory")(function* (year: number) {
        const stored = yield* Ref.get(deliveries)
        return byReceivedAt(stored).flatMap((delivery): ReadonlyArray<YearHistoryEntry> => {
          const row = delivery.rows.find((candidate) => candidate.year === year)
          if (row === undefined) return []
          return [
            {
              deliveryId: delivery.id,
              receivedAt: delivery.receivedAt,
              voteAverage: row.voteAverage,
              quantity: row.quantity
            }
          ]
        })
      })

      return RatingsRepository.of({ store, latest, yearHistory })
    })
  )
}
