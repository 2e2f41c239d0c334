import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type { Delivery } from "./Delivery.ts"

/** A delivery the receiver did not accept, after retries where the failure was transient. */
export class PublishError extends Schema.TaggedError<PublishError>()("PublishError", {
  deliveryId: Schema.String,
  status: Schema.NullOr(Schema.Int),
  detail: Schema.String
}) {
  override get message(): string {
    const status = this.status === null ? "no response" : `HTTP ${this.status}`
    return `Delivery ${this.deliveryId} was not accepted (${status}): ${this.detail}`
  }
}

/** Sends the yearly table to the webhook receiver as one signed delivery. */
export class RatingsPublisher extends Context.Service<
  RatingsPublisher,
  {
    readonly publish: (delivery: Delivery) => Effect.Effect<void, PublishError>
  }
>()("@tmdb-yearly/core/RatingsPublisher") {}
