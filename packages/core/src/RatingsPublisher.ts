import { Context, Effect, Layer, Ref, Schema } from "effect"
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

/**
 * The deliveries accepted by `RatingsPublisher.layerMemory`, so that tests and examples can read what was
 * published.
 */
export class MemoryPublisher extends Context.Service<
  MemoryPublisher,
  {
    /** Reads every delivery passed to `publish`, in call order, repeated ids included. */
    readonly deliveries: Effect.Effect<ReadonlyArray<Delivery>>
    /** Appends a delivery. */
    readonly record: (delivery: Delivery) => Effect.Effect<void>
  }
>()("@tmdb-yearly/core/MemoryPublisher") {
  /** An empty list of deliveries. */
  static readonly layer: Layer.Layer<MemoryPublisher> = Layer.effect(
    MemoryPublisher,
    Effect.gen(function* () {
      const deliveries = yield* Ref.make<ReadonlyArray<Delivery>>([])
      return MemoryPublisher.of({
        deliveries: Ref.get(deliveries),
        record: (delivery) => Ref.update(deliveries, (recorded) => [...recorded, delivery])
      })
    })
  )
}

/** Sends the yearly table to the webhook receiver as one signed delivery. */
export class RatingsPublisher extends Context.Service<
  RatingsPublisher,
  {
    readonly publish: (delivery: Delivery) => Effect.Effect<void, PublishError>
  }
>()("@tmdb-yearly/core/RatingsPublisher") {
  /**
   * A publisher that never fails and keeps each delivery in memory, unsigned. It also provides the
   * `MemoryPublisher` that reads them back.
   */
  static readonly layerMemory: Layer.Layer<RatingsPublisher | MemoryPublisher> = Layer.effect(
    RatingsPublisher,
    Effect.gen(function* () {
      const memory = yield* MemoryPublisher
      return RatingsPublisher.of({ publish: Effect.fn("RatingsPublisher.publish")(memory.record) })
    })
  ).pipe(Layer.provideMerge(MemoryPublisher.layer))
}
