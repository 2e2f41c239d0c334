import { Context, Effect, Layer, Option } from "effect"
import type { Redacted } from "effect"
import { generateWebhookSecret } from "@tmdb-yearly/core"

/** The Standard Webhooks secret (`whsec_<base64>`) that the publisher signs with and the receiver verifies. */
export class WebhookSecret extends Context.Service<WebhookSecret, Redacted.Redacted<string>>()(
  "@tmdb-yearly/host-node/WebhookSecret"
) {
  /**
   * Uses the configured secret, or generates one for this process when none is configured. A generated secret
   * is logged as generated, never itself, and only this process's publisher and receiver know it.
   */
  static readonly layer = (configured: Option.Option<Redacted.Redacted<string>>): Layer.Layer<WebhookSecret> =>
    Layer.effect(
      WebhookSecret,
      Option.match(configured, {
        onSome: Effect.succeed,
        onNone: () =>
          generateWebhookSecret.pipe(
            Effect.tap(() =>
              Effect.logInfo(
                "WEBHOOK_SECRET is not set, so this process generated a webhook secret. Set WEBHOOK_SECRET to share one with another receiver."
              )
            )
          )
      })
    )
}
