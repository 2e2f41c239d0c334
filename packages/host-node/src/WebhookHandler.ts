import {
  InvalidPayload,
  MAX_WEBHOOK_BODY_BYTES,
  PayloadTooLarge,
  RatingsApi,
  RatingsRepository,
  receiveDelivery,
  SignatureRejected,
  UnsupportedMediaType
} from "@tmdb-yearly/core"
import { Effect, Stream } from "effect"
import type { HttpServerRequest } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { databaseUnavailable } from "./ApiHandlers.ts"
import { WebhookSecret } from "./WebhookSecret.ts"

/** Whether a `Content-Type` header names JSON: `application/json`, with any parameters such as `charset`. */
export const isJsonContentType = (header: string | undefined): boolean =>
  header !== undefined && header.split(";")[0]?.trim().toLowerCase() === "application/json"

const tooLarge = () =>
  new PayloadTooLarge({
    detail: `The body is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes, the most this receiver reads.`,
    max_bytes: MAX_WEBHOOK_BODY_BYTES
  })

/**
 * Reads the request body, failing with `PayloadTooLarge` as soon as it exceeds `maxBytes`: at once when the
 * declared `Content-Length` is larger, and otherwise when the bytes read so far are. Reading stops at that
 * point, so nothing beyond the limit is buffered.
 */
export const readBodyWithLimit = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number
): Effect.Effect<Uint8Array, PayloadTooLarge> =>
  Effect.gen(function* () {
    const declared = request.headers["content-length"]
    if (declared !== undefined && Number(declared) > maxBytes) return yield* tooLarge()

    const chunks: Array<Uint8Array> = []
    let total = 0
    yield* request.stream.pipe(
      Stream.orDie,
      Stream.runForEach((chunk) => {
        total += chunk.length
        if (total > maxBytes) return Effect.fail(tooLarge())
        chunks.push(chunk)
        return Effect.void
      })
    )

    const body = new Uint8Array(total)
    let offset = 0
    for (const chunk of chunks) {
      body.set(chunk, offset)
      offset += chunk.length
    }
    return body
  })

/**
 * `POST /webhooks/yearly-ratings`. The handler takes the raw request, so the checks run in this order: the
 * content type (415), the 64 KiB limit (413), the signature on the raw bytes (401), the JSON and its schema
 * (400), and the database (503). A delivery id that is already stored returns 200 and writes nothing.
 */
export const WebhookHandlers = HttpApiBuilder.group(RatingsApi, "webhooks", (handlers) =>
  Effect.gen(function* () {
    const secret = yield* WebhookSecret
    const repository = yield* RatingsRepository

    return handlers.handleRaw("receive", ({ request }) =>
      Effect.gen(function* () {
        const contentType = request.headers["content-type"]
        if (!isJsonContentType(contentType)) {
          return yield* new UnsupportedMediaType({
            detail: "The webhook body must be sent with Content-Type: application/json.",
            content_type: contentType ?? null
          })
        }
        const body = yield* readBodyWithLimit(request, MAX_WEBHOOK_BODY_BYTES)
        const result = yield* receiveDelivery({ secret, headers: request.headers, body }).pipe(
          Effect.provideService(RatingsRepository, repository)
        )
        return { deliveryId: result.deliveryId, stored: result.stored }
      }).pipe(
        Effect.catchTags({
          WebhookVerificationError: (error) =>
            Effect.logWarning("Webhook delivery rejected").pipe(
              Effect.annotateLogs({ reason: error.reason, delivery_id: request.headers["webhook-id"] ?? null }),
              Effect.andThen(Effect.fail(new SignatureRejected({ detail: error.message, reason: error.reason })))
            ),
          PayloadRejected: (error) =>
            Effect.logWarning("Webhook body rejected").pipe(
              Effect.annotateLogs({ path: error.path, delivery_id: request.headers["webhook-id"] ?? null }),
              Effect.andThen(
                Effect.fail(new InvalidPayload({ detail: error.message, path: error.path, value: error.value }))
              )
            ),
          // The secret is checked at start-up, so this is a programming error rather than a client's fault.
          InvalidWebhookSecret: (error) => Effect.die(error),
          StorageError: databaseUnavailable
        }),
        Effect.annotateLogs({ route: "webhook" })
      )
    )
  })
)
