import { Context, Effect, Layer } from "effect"
import type { StorageError } from "@tmdb-yearly/core"

/** The check behind `GET /health/ready`: the database is reachable and every migration is applied. */
export class Readiness extends Context.Service<
  Readiness,
  {
    /** Succeeds when the service can store and read deliveries, and fails with the reason otherwise. */
    readonly check: Effect.Effect<void, StorageError>
  }
>()("@tmdb-yearly/host-node/Readiness") {
  /** Always ready, for the in-memory stores. */
  static readonly layerMemory: Layer.Layer<Readiness> = Layer.succeed(Readiness, Readiness.of({ check: Effect.void }))
}
