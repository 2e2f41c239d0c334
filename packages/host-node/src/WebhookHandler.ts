import {
  DatabaseUnavailable,
  InvalidPayload,
  MAX_WEBHOOK_BODY_BYTES,
  PayloadTooLarge,
  RatingsApi,
  RatingsRepository,
  receiveDelivery,
  SignatureRejected,
  UnsupportedMediaType
} from "@tmdb-yearly/core"
import { Cause, Clock, Effect, Exit, Metric, Option, Stream } from "effect"
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

/** Webhook deliveries received, by the status of the response. */
export const webhookDeliveriesTotal = Metric.counter("tmdb_yearly_webhook_deliveries_received_total", {
  description: "Webhook deliveries received, by response status",
  incremental: true
})

/** Yearly rows written by stored deliveries. A repeated delivery id writes and counts nothing. */
export const webhookRowsStoredTotal = Metric.counter("tmdb_yearly_webhook_rows_stored_total", {
  description: "Yearly rows stored from webhook deliveries",
  incremental: true
})

/** Time from the start of a webhook request to its response, in seconds. */
export const webhookDurationSeconds = Metric.histogram("tmdb_yearly_webhook_request_duration_seconds", {
  description: "Time to handle a webhook delivery, from the request to the response, in seconds",
  boundaries: Metric.boundariesFromIterable([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
})

/** Every status the receiver returns, apart from a 500 for a defect. */
const WEBHOOK_STATUSES = [200, 201, 400, 401, 413, 415, 503]

const countDelivery = (status: number) =>
  Metric.update(Metric.withAttributes(webhookDeliveriesTotal, { status: String(status) }), 1)

/** Registers the webhook metrics at zero, each status included, so that `/metrics` lists them at once. */
export const registerWebhookMetrics: Effect.Effect<void> = Effect.all(
  [
    ...WEBHOOK_STATUSES.map((status) =>
      Metric.value(Metric.withAttributes(webhookDeliveriesTotal, { status: String(status) }))
    ),
    Metric.value(webhookRowsStoredTotal),
    Metric.value(webhookDurationSeconds)
  ],
  { discard: true }
)

type WebhookProblem = InvalidPayload | SignatureRejected | PayloadTooLarge | UnsupportedMediaType | DatabaseUnavailable

/** Lists the log fields of a rejection: its reason, path, limit or content type, and the problem's detail. */
const rejectionFields = (problem: WebhookProblem): Record<string, unknown> => {
  switch (problem._tag) {
    case "SignatureRejected":
      return { reason: problem.reason, error: problem.detail }
    case "InvalidPayload":
      return { path: problem.path, error: problem.detail }
    case "PayloadTooLarge":
      return { max_bytes: problem.max_bytes }
    case "UnsupportedMediaType":
      return { content_type: problem.content_type }
    case "DatabaseUnavailable":
      return { error: problem.detail }
  }
}

/**
 * Records one handled webhook request: the counter of its status, the rows it stored, its duration, and one
 * log line with `delivery_id` (the `webhook-id` header as sent, or null), `status`, `rows` and `duration_ms`.
 * A request interrupted before its response, as when the client disconnects, records nothing.
 */
const recordRequest = (
  exit: Exit.Exit<{ readonly stored: boolean; readonly rows: number }, WebhookProblem>,
  deliveryId: string | null,
  startedNanos: bigint
) =>
  Effect.gen(function* () {
    if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) return
    const durationMs = Number((yield* Clock.currentTimeNanos) - startedNanos) / 1e6
    yield* Metric.update(webhookDurationSeconds, durationMs / 1000)
    const roundedMs = Math.round(durationMs * 10) / 10

    if (Exit.isSuccess(exit)) {
      const status = exit.value.stored ? 201 : 200
      yield* countDelivery(status)
      if (exit.value.stored) yield* Metric.update(webhookRowsStoredTotal, exit.value.rows)
      yield* Effect.logInfo("Webhook delivery received").pipe(
        Effect.annotateLogs({
          delivery_id: deliveryId,
          status,
          stored: exit.value.stored,
          rows: exit.value.rows,
          duration_ms: roundedMs
        })
      )
      return
    }
    const problem = Cause.findErrorOption(exit.cause)
    if (Option.isNone(problem)) {
      yield* countDelivery(500)
      yield* Effect.logError("Webhook delivery failed", exit.cause).pipe(
        Effect.annotateLogs({ delivery_id: deliveryId, status: 500, duration_ms: roundedMs })
      )
      return
    }
    yield* countDelivery(problem.value.status)
    yield* Effect.logWarning("Webhook delivery rejected").pipe(
      Effect.annotateLogs({
        delivery_id: deliveryId,
        status: problem.value.status,
        rows: 0,
        duration_ms: roundedMs,
        ...rejectionFields(problem.value)
      })
    )
  })

/**
 * `POST /webhooks/yearly-ratings`. The handler takes the raw request, so the checks run in this order: the
 * content type (415), the 64 KiB limit (413), the signature on the raw bytes (401), the JSON and its schema
 * (400), and the database (503). A delivery id that is already stored returns 200 and writes nothing. Each
 * handled request is counted by status, timed, and logged in one line.
 */
export const WebhookHandlers = HttpApiBuilder.group(RatingsApi, "webhooks", (handlers) =>
  Effect.gen(function* () {
    const secret = yield* WebhookSecret
    const repository = yield* RatingsRepository
    yield* registerWebhookMetrics

    const receive = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.gen(function* () {
        const contentType = request.headers["content-type"]
        if (!isJsonContentType(contentType)) {
          return yield* new UnsupportedMediaType({
            detail: "The webhook body must be sent with Content-Type: application/json.",
            content_type: contentType ?? null
          })
        }
        const body = yield* readBodyWithLimit(request, MAX_WEBHOOK_BODY_BYTES)
        return yield* receiveDelivery({ secret, headers: request.headers, body }).pipe(
          Effect.provideService(RatingsRepository, repository)
        )
      }).pipe(
        Effect.catchTags({
          WebhookVerificationError: (error) =>
            Effect.fail(new SignatureRejected({ detail: error.message, reason: error.reason })),
          PayloadRejected: (error) =>
            Effect.fail(new InvalidPayload({ detail: error.message, path: error.path, value: error.value })),
          // The secret is checked at start-up, so this is a programming error rather than a client's fault.
          InvalidWebhookSecret: (error) => Effect.die(error),
          StorageError: databaseUnavailable
        })
      )

    return handlers.handleRaw("receive", ({ request }) =>
      Effect.gen(function* () {
        const startedNanos = yield* Clock.currentTimeNanos
        const deliveryId = request.headers["webhook-id"] ?? null
        const result = yield* receive(request).pipe(
          Effect.onExit((exit) => recordRequest(exit, deliveryId, startedNanos))
        )
        return { deliveryId: result.deliveryId, stored: result.stored }
      }).pipe(Effect.annotateLogs({ route: "webhook" }))
    )
  })
)
