import { Context } from "effect"
import type { DateTime, Effect, Option } from "effect"
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
>()("@tmdb-yearly/core/RatingsRepository") {}
