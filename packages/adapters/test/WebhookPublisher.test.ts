import { assert, describe, it } from "@effect/vitest"
import { WebhookPublisher, type WebhookPublisherOptions } from "@tmdb-yearly/adapters"
import { PublishError, RatingsPublisher, verifyWebhook } from "@tmdb-yearly/core"
import type { Delivery } from "@tmdb-yearly/core"
import { Clock, Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { type CapturedLog, captureLogs } from "../../../testing/LogCapture.ts"

const SECRET = Redacted.make("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

const DELIVERY: Delivery = {
  id: "delivery-2026-02-17T10:00:00Z",
  rows: [
    { year: 1990, voteAverage: 8.1, quantity: 10 },
    { year: 1994, voteAverage: 8.45, quantity: 3 },
    { year: 2001, voteAverage: 7.902, quantity: 1 }
  ]
}

const EXPECTED_BODY =
  '[{"year":"1990","vote_average":"8.1","quantity":"10"},' +
  '{"year":"1994","vote_average":"8.45","quantity":"3"},' +
  '{"year":"2001","vote_average":"7.902","quantity":"1"}]'

/** A request as the receiver read it: the raw body bytes and the headers, lowercase. */
interface ReceivedRequest {
  readonly method: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: Uint8Array
}

/** The receiver's response to one request: a status with optional headers and body, a stall or a reset. */
type Reply =
  { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string } | "stall" | "reset"

/**
 * Starts a receiver on 127.0.0.1 that responds to the n-th request with `replies[n]`, and to the rest with the last
 * reply. It records every request and is closed when the test ends.
 */
const startReceiver = (replies: ReadonlyArray<Reply>) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ readonly url: string; readonly received: Array<ReceivedRequest>; close: () => void }>(
          (resolve) => {
            const received: Array<ReceivedRequest> = []
            const server = createServer((request: IncomingMessage, response: ServerResponse) => {
              const chunks: Array<Buffer> = []
              request.on("data", (chunk: Buffer) => chunks.push(chunk))
              request.on("end", () => {
                const headers: Record<string, string | undefined> = {}
                for (const [name, value] of Object.entries(request.headers)) {
                  headers[name] = Array.isArray(value) ? value.join(", ") : value
                }
                received.push({ method: request.method ?? "", headers, body: new Uint8Array(Buffer.concat(chunks)) })
                const reply = replies[Math.min(received.length, replies.length) - 1] ?? { status: 500 }
                if (reply === "stall") return
                if (reply === "reset") return request.socket.destroy()
                response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
                response.end(reply.body ?? "")
              })
            })
            server.listen(0, "127.0.0.1", () => {
              const { port } = server.address() as AddressInfo
              resolve({
                url: `http://127.0.0.1:${port}/webhooks/yearly-ratings`,
                received,
                close: () => {
                  server.closeAllConnections()
                  server.close()
                }
              })
            })
          }
        )
    ),
    (receiver) => Effect.sync(() => receiver.close())
  )

/** Publishes `delivery` with a fast retry policy, and returns the outcome with the captured log lines. */
const publish = (options: Partial<WebhookPublisherOptions> & { readonly url: string }, delivery = DELIVERY) =>
  Effect.gen(function* () {
    const lines: Array<CapturedLog> = []
    const publisher = WebhookPublisher.layer({
      secret: SECRET,
      retryBaseDelay: "5 millis",
      requestTimeout: "2 seconds",
      ...options
    }).pipe(Layer.provide(FetchHttpClient.layer))
    const outcome = yield* RatingsPublisher.use((service) => service.publish(delivery)).pipe(
      Effect.result,
      Effect.provide(Layer.merge(publisher, captureLogs(lines)))
    )
    const warnings = lines.filter((line) => line.level === "Warn")
    return { outcome, warnings }
  })

const created = { status: 201, body: '{"delivery_id":"x","stored":true}' }

describe("WebhookPublisher", () => {
  it.live("signs the exact bytes it sends", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([created])
      const before = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      const { outcome } = yield* publish({ url: receiver.url })
      const after = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      assert.strictEqual(outcome._tag, "Success")
      assert.strictEqual(receiver.received.length, 1)

      const request = receiver.received[0]
      if (request === undefined) return assert.fail("the receiver got no request")
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.headers["content-type"], "application/json")
      assert.strictEqual(request.headers["webhook-id"], DELIVERY.id)
      assert.strictEqual(new TextDecoder().decode(request.body), EXPECTED_BODY)
      const timestamp = Number(request.headers["webhook-timestamp"])
      assert.isTrue(timestamp >= before && timestamp <= after)

      const verified = yield* verifyWebhook({ secret: SECRET, headers: request.headers, body: request.body })
      assert.deepStrictEqual(verified, { id: DELIVERY.id, timestamp })
      const tampered = new TextEncoder().encode(EXPECTED_BODY.replace("8.1", "8.2"))
      const rejected = yield* verifyWebhook({ secret: SECRET, headers: request.headers, body: tampered }).pipe(
        Effect.flip
      )
      assert.strictEqual(rejected._tag, "WebhookVerificationError")
      assert.strictEqual(
        rejected._tag === "WebhookVerificationError" ? rejected.reason : rejected._tag,
        "bad-signature"
      )
    })
  )

  it.live("503 twice then 201 succeeds", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([{ status: 503 }, { status: 503 }, created])
      const { outcome, warnings } = yield* publish({ url: receiver.url })
      assert.strictEqual(outcome._tag, "Success")
      assert.strictEqual(receiver.received.length, 3)
      assert.deepStrictEqual(
        receiver.received.map((request) => request.headers["webhook-id"]),
        [DELIVERY.id, DELIVERY.id, DELIVERY.id]
      )
      assert.deepStrictEqual(
        warnings.map((line) => [line.message, line.annotations["attempt"], line.annotations["status"]]),
        [
          ["Retrying a webhook delivery", 1, 503],
          ["Retrying a webhook delivery", 2, 503]
        ]
      )
      for (const line of warnings) {
        assert.strictEqual(line.annotations["delivery_id"], DELIVERY.id)
        const delay = line.annotations["delay_ms"]
        assert.isTrue(typeof delay === "number" && delay >= 0 && delay <= 10, `delay_ms ${String(delay)}`)
      }
    })
  )

  it.live("200 already stored counts as delivered", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([{ status: 200, body: '{"delivery_id":"x","stored":false}' }])
      const { outcome, warnings } = yield* publish({ url: receiver.url })
      assert.strictEqual(outcome._tag, "Success")
      assert.strictEqual(receiver.received.length, 1)
      assert.strictEqual(warnings.length, 0)
    })
  )

  it.live("400 is not retried", () =>
    Effect.gen(function* () {
      const problem = '{"title":"Bad Request","detail":"year 19x0 is not a four-digit year"}'
      const receiver = yield* startReceiver([{ status: 400, body: problem }, created])
      const { outcome, warnings } = yield* publish({ url: receiver.url })
      assert.strictEqual(receiver.received.length, 1)
      assert.strictEqual(warnings.length, 0)
      assert.strictEqual(outcome._tag, "Failure")
      if (outcome._tag !== "Failure") return
      assert.deepStrictEqual(
        outcome.failure,
        new PublishError({ deliveryId: DELIVERY.id, status: 400, detail: `HTTP 400, body ${problem}` })
      )
      assert.strictEqual(
        outcome.failure.message,
        `Delivery ${DELIVERY.id} was not accepted (HTTP 400): HTTP 400, body ${problem}`
      )
    })
  )

  it.live("401 is not retried", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([{ status: 401 }, created])
      const { outcome } = yield* publish({ url: receiver.url })
      assert.strictEqual(receiver.received.length, 1)
      assert.strictEqual(outcome._tag === "Failure" ? outcome.failure.status : "succeeded", 401)
    })
  )

  it.live("stalled receiver times out and is retried", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver(["stall", created])
      const { outcome, warnings } = yield* publish({ url: receiver.url, requestTimeout: "200 millis" })
      assert.strictEqual(outcome._tag, "Success")
      assert.strictEqual(receiver.received.length, 2)
      assert.deepStrictEqual(
        warnings.map((line) => [line.annotations["attempt"], line.annotations["status"], line.annotations["error"]]),
        [[1, "timeout", "no complete response within 200ms"]]
      )
    })
  )

  it.live("reset connection is retried", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver(["reset", created])
      const { outcome, warnings } = yield* publish({ url: receiver.url })
      assert.strictEqual(outcome._tag, "Success")
      assert.strictEqual(receiver.received.length, 2)
      assert.deepStrictEqual(
        warnings.map((line) => [line.annotations["attempt"], line.annotations["status"]]),
        [[1, "transport"]]
      )
    })
  )

  it.live("Retry-After sets the delay, capped", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([
        { status: 429, headers: { "retry-after": "0" } },
        { status: 503, headers: { "retry-after": "120" } },
        created
      ])
      const { outcome, warnings } = yield* publish({ url: receiver.url, maxRetryAfter: "30 millis" })
      assert.strictEqual(outcome._tag, "Success")
      assert.deepStrictEqual(
        warnings.map((line) => [line.annotations["status"], line.annotations["delay_ms"]]),
        [
          [429, 0],
          [503, 30]
        ]
      )
    })
  )

  it.live("gives up after maxAttempts", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([{ status: 500, body: '{"title":"Internal Server Error"}' }])
      const { outcome, warnings } = yield* publish({ url: receiver.url, maxAttempts: 3 })
      assert.strictEqual(receiver.received.length, 3)
      assert.strictEqual(warnings.length, 2)
      assert.strictEqual(outcome._tag, "Failure")
      if (outcome._tag !== "Failure") return
      assert.deepStrictEqual(
        outcome.failure,
        new PublishError({
          deliveryId: DELIVERY.id,
          status: 500,
          detail: 'HTTP 500, body {"title":"Internal Server Error"} (gave up after 3 attempts)'
        })
      )
    })
  )

  it.live("unreachable receiver fails with no status", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([created])
      const url = receiver.url
      receiver.close()
      const { outcome, warnings } = yield* publish({ url, maxAttempts: 2 })
      assert.strictEqual(warnings.length, 1)
      assert.strictEqual(outcome._tag, "Failure")
      if (outcome._tag !== "Failure") return
      assert.strictEqual(outcome.failure.status, null)
      assert.match(outcome.failure.detail, /\(gave up after 2 attempts\)$/)
    })
  )

  it.live("invalid secret fails before sending", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([created])
      const secret = Redacted.make("not-a-standard-webhooks-secret")
      const { outcome } = yield* publish({ url: receiver.url, secret })
      assert.strictEqual(receiver.received.length, 0)
      assert.strictEqual(outcome._tag, "Failure")
      if (outcome._tag !== "Failure") return
      assert.strictEqual(outcome.failure.status, null)
      assert.notInclude(outcome.failure.message, "not-a-standard-webhooks-secret")
    })
  )

  it.live("rows that do not encode fail before sending", () =>
    Effect.gen(function* () {
      const receiver = yield* startReceiver([created])
      const repeatedYear: Delivery = {
        id: "delivery-repeated-year",
        rows: [
          { year: 1990, voteAverage: 8.1, quantity: 10 },
          { year: 1990, voteAverage: 7, quantity: 2 }
        ]
      }
      const { outcome } = yield* publish({ url: receiver.url }, repeatedYear)
      assert.strictEqual(receiver.received.length, 0)
      assert.strictEqual(outcome._tag, "Failure")
      if (outcome._tag !== "Failure") return
      assert.strictEqual(outcome.failure.status, null)
      assert.match(outcome.failure.detail, /^the rows are not a valid webhook body: /)
    })
  )
})
