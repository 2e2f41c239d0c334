import { signWebhook } from "@tmdb-yearly/core"
import { Effect, Redacted } from "effect"

/** A fixed Standard Webhooks secret for tests: `whsec_` and the base64 of 32 bytes. */
export const TEST_WEBHOOK_SECRET = "whsec_dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE="

/** The request that `postWebhook` sends. Each field has a default that makes a valid, signed delivery. */
export interface WebhookRequest {
  readonly url: string
  readonly body: Uint8Array | string
  readonly id?: string
  /** Unix seconds. Default: now. */
  readonly timestamp?: number
  readonly secret?: string
  readonly contentType?: string
  /** Sends these headers in place of the signed ones. */
  readonly headers?: Record<string, string>
}

/** Signs and sends a webhook delivery with `fetch`, and returns the status, the headers and the parsed body. */
export const postWebhook = (request: WebhookRequest) =>
  Effect.gen(function* () {
    const body = typeof request.body === "string" ? new TextEncoder().encode(request.body) : request.body
    const id = request.id ?? `msg_${crypto.randomUUID()}`
    const timestamp = request.timestamp ?? Math.floor(Date.now() / 1000)
    const signature = yield* signWebhook({
      secret: Redacted.make(request.secret ?? TEST_WEBHOOK_SECRET),
      id,
      timestamp,
      body
    })
    const headers = request.headers ?? {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature
    }
    const response = yield* Effect.promise(() =>
      fetch(request.url, {
        method: "POST",
        headers: { "content-type": request.contentType ?? "application/json", ...headers },
        body: new Uint8Array(body)
      })
    )
    const text = yield* Effect.promise(() => response.text())
    return {
      status: response.status,
      headers: response.headers,
      body: text === "" ? null : (JSON.parse(text) as unknown)
    }
  })

/** Sends a GET with `fetch` and returns the status, the headers and the parsed JSON body. */
export const getJson = (url: string) =>
  Effect.gen(function* () {
    const response = yield* Effect.promise(() => fetch(url))
    const text = yield* Effect.promise(() => response.text())
    const isJson = (response.headers.get("content-type") ?? "").includes("json")
    return { status: response.status, headers: response.headers, body: isJson ? (JSON.parse(text) as unknown) : text }
  })
