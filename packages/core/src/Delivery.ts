import type { DateTime } from "effect"
import type { YearlyRating } from "./YearlyRating.ts"

/**
 * One publication of the yearly table. The id is the Standard Webhooks `webhook-id` and the idempotency key:
 * the receiver stores a delivery id once.
 */
export interface Delivery {
  readonly id: string
  readonly rows: ReadonlyArray<YearlyRating>
}

/** A delivery as the receiver stored it, with the time it was accepted. */
export interface StoredDelivery extends Delivery {
  readonly receivedAt: DateTime.Utc
}

/** One year's row in one stored delivery, for the history of that year. */
export interface YearHistoryEntry {
  readonly deliveryId: string
  readonly receivedAt: DateTime.Utc
  readonly voteAverage: number
  readonly quantity: number
}
