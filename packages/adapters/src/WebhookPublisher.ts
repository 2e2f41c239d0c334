import { PublishError, RatingsPublisher, signWebhook, YearlyRatingsPayload } from "@tmdb-yearly/core"
import type { Delivery } from "@tmdb-yearly/core"
import { Clock, Duration, Effect, Layer, Metric, Redacted, Result, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_RETRY_AFTER,
  DEFAULT_REQUEST_TIMEOUT,
  DEFAULT_RETRY_BASE_DELAY,
  exchange,
  isRetryableStatus,
  retryTransient,
  transientStatus
} from "./internal/httpRetry.ts"

/** Settings of the webhook publisher. Durations accept any `Duration.Input`, such as `"300 millis"`. */
export interface WebhookPublisherOptions {
  /** Receiver URL, such as `http://127.0.0.1:3000/webhooks/yearly-ratings`. */
  readonly url: string
  /** Standard Webhooks secret, `whsec_<base64>`. */
  readonly secret: Redacted.Redacted<string>
  /** Time limit of one attempt, from sending the request to reading the whole response. Default 10 seconds. */
  readonly requestTimeout?: Duration.Input
  /** Attempts per delivery in all, the first one included. Default 5. */
  readonly maxAttempts?: number
  /** Base of the exponential backoff with full jitter. Default 500 milliseconds. */
  readonly retryBaseDelay?: Duration.Input
  /** Maximum wait that a `Retry-After` header can request. A longer one is cut to this. Default 60 seconds. */
  readonly maxRetryAfter?: Duration.Input
}

const MAX_BODY_EXCERPT_LENGTH = 200

const attemptsTotal = Metric.counter("tmdb_yearly_webhook_attempts_total", {
  description: "Webhook delivery attempts, by HTTP status, or by error or timeout when no status came back",
  incremental: true
})
const retriesTotal = Metric.counter("tmdb_yearly_webhook_retries_total", {
  description: "Webhook delivery attempts retried after a transient failure",
  incremental: true
})

const countAttempt = (status: number | "error" | "timeout") =>
  Metric.update(Metric.withAttributes(attemptsTotal, { status: String(status) }), 1)

const describeBody = (body: string): string => {
  const trimmed = body.trim()
  if (trimmed === "") return "empty body"
  const excerpt = trimmed.length > MAX_BODY_EXCERPT_LENGTH ? `${trimmed.slice(0, MAX_BODY_EXCERPT_LENGTH)}...` : trimmed
  return `body ${excerpt}`
}

const make = (options: WebhookPublisherOptions) =>
  Effect.gen(function* () {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      return yield* Effect.die(
        new RangeError(`WebhookPublisherOptions.maxAttempts must be an integer of at least 1, got ${maxAttempts}`)
      )
    }
    const requestTimeout = Duration.fromInputUnsafe(options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT)
    const retryBaseDelay = Duration.fromInputUnsafe(options.retryBaseDelay ?? DEFAULT_RETRY_BASE_DELAY)
    const maxRetryAfter = Duration.fromInputUnsafe(options.maxRetryAfter ?? DEFAULT_MAX_RETRY_AFTER)
    const client = yield* HttpClient.HttpClient
    // Registered at zero, so that a metrics endpoint lists them before the first delivery.
    yield* Effect.all(
      [Metric.value(Metric.withAttributes(attemptsTotal, { status: "201" })), Metric.value(retriesTotal)],
      { discard: true }
    )
    const encodePayload = Schema.encodeEffect(YearlyRatingsPayload)

    const fail = (deliveryId: string, status: number | null, detail: string) =>
      Effect.fail(new PublishError({ deliveryId, status, detail }))

    // Each attempt is signed with its own timestamp, so that a retry after a long wait is not rejected as stale.
    const buildRequest = (delivery: Delivery, body: Uint8Array) =>
      Effect.gen(function* () {
        const timestamp = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const signature = yield* signWebhook({ secret: options.secret, id: delivery.id, timestamp, body }).pipe(
          Effect.catchTag("InvalidWebhookSecret", (error) => fail(delivery.id, null, error.message))
        )
        return HttpClientRequest.post(options.url).pipe(
          HttpClientRequest.bodyUint8Array(body, "application/json"),
          HttpClientRequest.setHeaders({
            "webhook-id": delivery.id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signature
          })
        )
      })

    // Sends one attempt and classifies the outcome. Fails only with errors that no retry can mend.
    const attempt = (delivery: Delivery, body: Uint8Array) =>
      Effect.gen(function* () {
        const request = yield* buildRequest(delivery, body)
        const outcome = yield* exchange(client, request, requestTimeout, countAttempt)
        switch (outcome._tag) {
          case "Unsendable":
            return yield* fail(delivery.id, null, `the request could not be sent: ${outcome.message}`)
          case "Transient":
            return Result.fail(outcome.failure)
        }
        const { status, body: responseBody } = outcome.response
        // This project's receiver returns 201 (stored) or 200 (already stored). Standard Webhooks 1.0.0 counts
        // every 2xx as a successful delivery, so other receivers' 2xx are accepted too.
        if (status >= 200 && status < 300) return Result.succeed(undefined)
        const detail = `HTTP ${status}, ${describeBody(responseBody)}`
        if (!isRetryableStatus(status)) return yield* fail(delivery.id, status, detail)
        return Result.fail(yield* transientStatus(outcome.response, detail, maxRetryAfter))
      })

    const publish = Effect.fn("WebhookPublisher.publish")(function* (delivery: Delivery) {
      yield* Effect.annotateCurrentSpan("delivery_id", delivery.id)
      const payload = yield* encodePayload(delivery.rows).pipe(
        Effect.catchTag("SchemaError", (error) =>
          fail(delivery.id, null, `the rows are not a valid webhook body: ${error.message}`)
        )
      )
      // These bytes are both signed and sent, so the signature covers exactly what the receiver reads.
      const body = new TextEncoder().encode(JSON.stringify(payload))

      yield* retryTransient({
        attempt: attempt(delivery, body),
        maxAttempts,
        baseDelay: retryBaseDelay,
        retries: retriesTotal,
        logMessage: "Retrying a webhook delivery",
        logFields: { delivery_id: delivery.id },
        giveUp: (failure, detail) => fail(delivery.id, failure.status, detail)
      })
    })

    return RatingsPublisher.of({ publish })
  })

/**
 * The `RatingsPublisher` that POSTs each delivery to a Standard Webhooks receiver.
 *
 * The body is the bare JSON array of `YearlyRatingsPayload`, every value a string, with `Content-Type:
 * application/json`. Headers `webhook-id` (the delivery id), `webhook-timestamp` (Unix seconds from `Clock`) and
 * `webhook-signature` (`v1,<base64>` from `signWebhook` over the exact bytes sent) go with every attempt.
 *
 * A 2xx response, 201 or 200 from this project's receiver, counts as delivered, as in Standard Webhooks 1.0.0. Network errors, timeouts,
 * 408, 429 and 5xx are retried up to `maxAttempts` in all, after the wait a `Retry-After` header requests
 * (seconds or HTTP-date, capped at `maxRetryAfter`), or else after an exponential backoff with full jitter
 * (capped at 30 seconds). Each retry logs one warning with `delivery_id`, `attempt`, `status` (the HTTP status,
 * or `transport` or `timeout`) and `delay_ms`.
 *
 * Fails with `PublishError`: at once for another status, with that status, and once the attempts are used up,
 * with the last status or `null`. An invalid secret or rows that do not encode fail at once with status
 * `null`. A `maxAttempts` that is not a positive integer is a defect of the layer. The secret never appears in
 * log lines or errors.
 *
 * NOTE: redirects are handled by the `HttpClient` that is provided, not here. The host's undici client returns
 * a 3xx as it is, so the delivery fails at once, as Standard Webhooks treats it. `FetchHttpClient` would follow
 * it instead (and turn a POST into a GET on 301 to 303).
 */
export const WebhookPublisher: {
  readonly layer: (options: WebhookPublisherOptions) => Layer.Layer<RatingsPublisher, never, HttpClient.HttpClient>
} = {
  layer: (options) => Layer.effect(RatingsPublisher, make(options))
}
