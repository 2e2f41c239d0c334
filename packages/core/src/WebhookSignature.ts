import { Clock, Effect, Redacted, Schema } from "effect"

// Standard Webhooks, version 1 signatures (https://www.standardwebhooks.com): the signature is the base64
// HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${raw body}`, keyed with the base64-decoded part of a
// `whsec_<base64>` secret, and sent as `v1,<base64>`. Only web-standard APIs are used (crypto.subtle,
// crypto.getRandomValues, TextEncoder, atob and btoa), so the core runs on every runtime that has them.

/** Prefix of a Standard Webhooks secret. */
export const WEBHOOK_SECRET_PREFIX = "whsec_"

/** Default maximum distance, in seconds, between `webhook-timestamp` and the receiver's clock. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300

/** Number of random bytes in a secret made by `generateWebhookSecret`. */
export const GENERATED_WEBHOOK_SECRET_BYTES = 32

/** A webhook secret that is not `whsec_` followed by standard base64. The message never contains the secret. */
export class InvalidWebhookSecret extends Schema.TaggedError<InvalidWebhookSecret>()("InvalidWebhookSecret", {
  detail: Schema.String
}) {
  override get message(): string {
    return `Invalid webhook secret: ${this.detail}. Expected ${WEBHOOK_SECRET_PREFIX} followed by standard base64, for example a secret from generateWebhookSecret`
  }
}

/**
 * Why a delivery failed verification:
 * - `missing-header`: `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent or empty;
 * - `invalid-timestamp`: `webhook-timestamp` is not a whole number of Unix seconds;
 * - `stale-timestamp`: the timestamp is further from the receiver's clock than the tolerance;
 * - `bad-signature`: no `v1` signature in `webhook-signature` matches the body.
 */
export const WebhookVerificationReason = Schema.Literals([
  "missing-header",
  "invalid-timestamp",
  "stale-timestamp",
  "bad-signature"
])
export type WebhookVerificationReason = typeof WebhookVerificationReason.Type

/** A webhook delivery whose headers or signature did not verify. The receiver rejects it with HTTP 401. */
export class WebhookVerificationError extends Schema.TaggedError<WebhookVerificationError>()(
  "WebhookVerificationError",
  {
    reason: WebhookVerificationReason,
    detail: Schema.String
  }
) {
  override get message(): string {
    return `Webhook verification failed (${this.reason}): ${this.detail}`
  }
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Decodes standard, padded base64, or returns `undefined` when the text is not that. */
const decodeBase64 = (text: string): Uint8Array<ArrayBuffer> | undefined => {
  if (!base64Pattern.test(text)) return undefined
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

const encodeBase64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/**
 * Smallest and largest key of a `whsec_` secret, in bytes. Standard Webhooks 1.0.0 specifies a random key of at
 * least 24 bytes (192 bits) and at most 512 bits. Signing and verifying accept any non-empty key, and the
 * service's configuration enforces this range.
 */
export const MIN_WEBHOOK_SECRET_BYTES = 24
export const MAX_WEBHOOK_SECRET_BYTES = 64

/**
 * Decodes the key of a `whsec_<base64>` secret. Returns `undefined` when the text does not start with `whsec_`
 * or the rest is not padded standard base64. The key may have any length, the empty key included.
 */
export const decodeWebhookSecretKey = (text: string): Uint8Array | undefined =>
  text.startsWith(WEBHOOK_SECRET_PREFIX) ? decodeBase64(text.slice(WEBHOOK_SECRET_PREFIX.length)) : undefined

const importSecret = (secret: Redacted.Redacted<string>): Effect.Effect<CryptoKey, InvalidWebhookSecret> => {
  const text = Redacted.value(secret)
  if (!text.startsWith(WEBHOOK_SECRET_PREFIX)) {
    return Effect.fail(new InvalidWebhookSecret({ detail: `it does not start with ${WEBHOOK_SECRET_PREFIX}` }))
  }
  const key = decodeBase64(text.slice(WEBHOOK_SECRET_PREFIX.length))
  if (key === undefined) {
    return Effect.fail(
      new InvalidWebhookSecret({ detail: `the part after ${WEBHOOK_SECRET_PREFIX} is not padded standard base64` })
    )
  }
  if (key.length === 0) {
    return Effect.fail(new InvalidWebhookSecret({ detail: `the key after ${WEBHOOK_SECRET_PREFIX} is empty` }))
  }
  return Effect.promise(() => crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]))
}

/**
 * Builds the signed content: the bytes of `${id}.${timestamp}.` followed by the raw body. The receiver passes
 * the `webhook-timestamp` header text as it arrived, so that it checks exactly the text the sender signed.
 */
const signedContent = (id: string, timestamp: string, body: Uint8Array): Uint8Array<ArrayBuffer> => {
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`)
  const content = new Uint8Array(prefix.length + body.length)
  content.set(prefix, 0)
  content.set(body, prefix.length)
  return content
}

/**
 * Signs a webhook delivery and returns the `webhook-signature` header value, `v1,<base64 HMAC-SHA256>`.
 * `timestamp` is in Unix seconds and `body` is the exact bytes that will be sent.
 *
 * Fails with `InvalidWebhookSecret` when the secret is not `whsec_<base64>`. Dies with a `RangeError` when
 * the timestamp is not a non-negative safe integer.
 */
export const signWebhook = Effect.fn("WebhookSignature.sign")(function* (input: {
  readonly secret: Redacted.Redacted<string>
  readonly id: string
  readonly timestamp: number
  readonly body: Uint8Array
}) {
  if (!Number.isSafeInteger(input.timestamp) || input.timestamp < 0) {
    return yield* Effect.die(
      new RangeError(`Invalid webhook timestamp ${input.timestamp}: expected a non-negative whole number of seconds`)
    )
  }
  const key = yield* importSecret(input.secret)
  const content = signedContent(input.id, String(input.timestamp), input.body)
  const mac = yield* Effect.promise(() => crypto.subtle.sign("HMAC", key, content))
  return `v1,${encodeBase64(new Uint8Array(mac))}`
})

const timestampPattern = /^[0-9]{1,15}$/

/**
 * Compares two byte arrays in time that depends only on their lengths, so that a forged signature cannot be
 * found byte by byte by timing. The lengths are not secret: an HMAC-SHA256 is always 32 bytes.
 */
const equalInConstantTime = (expected: Uint8Array, actual: Uint8Array): boolean => {
  if (expected.length !== actual.length) return false
  let difference = 0
  for (let i = 0; i < expected.length; i++) difference |= (expected[i] ?? 0) ^ (actual[i] ?? 0)
  return difference === 0
}

/** Reads a header by its lowercase name, treating an empty value as missing. */
const findHeader = (
  headers: { readonly [name: string]: string | undefined },
  name: string
): Effect.Effect<string, WebhookVerificationError> => {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined && value !== "") return Effect.succeed(value)
  }
  return Effect.fail(new WebhookVerificationError({ reason: "missing-header", detail: `header ${name} is missing` }))
}

/**
 * Verifies a webhook delivery on its raw body and returns its `webhook-id` and `webhook-timestamp`.
 *
 * Header names are matched case-insensitively. `webhook-signature` may list several space-separated
 * signatures, and the delivery verifies when any `v1` entry matches. Signatures are compared in constant time.
 * The current time comes from Effect's `Clock`, and a timestamp more than `toleranceSeconds` (default 300)
 * before or after it is rejected as stale. Dies with a `RangeError` when `toleranceSeconds` is negative or NaN.
 *
 * Fails with `InvalidWebhookSecret` when the secret is not `whsec_<base64>`, and otherwise with
 * `WebhookVerificationError` whose `reason` names the check that failed.
 */
export const verifyWebhook = Effect.fn("WebhookSignature.verify")(function* (input: {
  readonly secret: Redacted.Redacted<string>
  readonly headers: { readonly [name: string]: string | undefined }
  readonly body: Uint8Array
  readonly toleranceSeconds?: number
}) {
  const key = yield* importSecret(input.secret)
  const id = yield* findHeader(input.headers, "webhook-id")
  const timestampHeader = yield* findHeader(input.headers, "webhook-timestamp")
  const signatureHeader = yield* findHeader(input.headers, "webhook-signature")

  if (!timestampPattern.test(timestampHeader)) {
    return yield* new WebhookVerificationError({
      reason: "invalid-timestamp",
      detail: `webhook-timestamp ${JSON.stringify(timestampHeader)} is not a whole number of Unix seconds`
    })
  }
  const timestamp = Number(timestampHeader)
  const tolerance = input.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS
  if (!(tolerance >= 0)) {
    // Checked because a NaN tolerance would make every comparison below false and accept any timestamp.
    return yield* Effect.die(new RangeError(`Invalid webhook tolerance ${tolerance}: expected seconds >= 0`))
  }
  const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  if (Math.abs(now - timestamp) > tolerance) {
    const distance = now > timestamp ? `${now - timestamp} s before` : `${timestamp - now} s after`
    return yield* new WebhookVerificationError({
      reason: "stale-timestamp",
      detail: `webhook-timestamp ${timestamp} is ${distance} the current time ${now}, more than the ${tolerance} s allowed`
    })
  }

  const content = signedContent(id, timestampHeader, input.body)
  const expected = new Uint8Array(yield* Effect.promise(() => crypto.subtle.sign("HMAC", key, content)))
  const candidates = signatureHeader
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => decodeBase64(entry.slice("v1,".length)))
  for (const candidate of candidates) {
    if (candidate !== undefined && equalInConstantTime(expected, candidate)) return { id, timestamp }
  }
  return yield* new WebhookVerificationError({
    reason: "bad-signature",
    detail:
      candidates.length === 0
        ? "webhook-signature has no v1 entry"
        : `none of the ${candidates.length} v1 signatures in webhook-signature matches the body`
  })
})

/**
 * Generates a new Standard Webhooks secret: `whsec_` followed by the base64 of 32 bytes from the
 * cryptographically secure `crypto.getRandomValues`.
 */
export const generateWebhookSecret: Effect.Effect<Redacted.Redacted<string>> = Effect.sync(() => {
  const key = crypto.getRandomValues(new Uint8Array(GENERATED_WEBHOOK_SECRET_BYTES))
  return Redacted.make(`${WEBHOOK_SECRET_PREFIX}${encodeBase64(key)}`, { label: "WEBHOOK_SECRET" })
})
