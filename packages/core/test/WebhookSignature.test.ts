import { assert, describe, it } from "@effect/vitest"
import {
  decodeWebhookSecretKey,
  generateWebhookSecret,
  InvalidWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError
} from "@tmdb-yearly/core"
import { Effect, Exit, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { createHmac } from "node:crypto"

// A known-answer vector from the tests of the Svix webhook libraries, which sign in the Standard Webhooks format.
const secret = Redacted.make("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
const id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
const timestamp = 1614265330
const body = new TextEncoder().encode('{"test": 2432232314}')
const signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

const headers = {
  "webhook-id": id,
  "webhook-timestamp": String(timestamp),
  "webhook-signature": signature
}

/** Sets the TestClock to `seconds` of Unix time. */
const setClock = (seconds: number) => TestClock.setTime(seconds * 1000)

/** Verifies a delivery that must fail verification and returns the error. Any other outcome fails the test. */
const rejection = (input: Parameters<typeof verifyWebhook>[0]) =>
  Effect.flatMap(Effect.flip(verifyWebhook(input)), (error) =>
    error instanceof WebhookVerificationError ? Effect.succeed(error) : Effect.die(error)
  )

describe("signWebhook", () => {
  it.effect("signs the known-answer vector", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* signWebhook({ secret, id, timestamp, body }), signature)
    })
  )

  it.effect("signs the raw bytes", () =>
    Effect.gen(function* () {
      const spaced = yield* signWebhook({
        secret,
        id,
        timestamp,
        body: new TextEncoder().encode('{"test":2432232314}')
      })
      assert.notStrictEqual(spaced, signature)
    })
  )

  it.effect("rejects a secret without the prefix", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        signWebhook({ secret: Redacted.make("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), id, timestamp, body })
      )
      assert.instanceOf(error, InvalidWebhookSecret)
      assert.strictEqual(error.detail, "it does not start with whsec_")
      assert.notInclude(error.message, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    })
  )

  it.effect("rejects a secret that is not base64", () =>
    Effect.gen(function* () {
      for (const key of ["not base64!", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaSw", ""]) {
        const error = yield* Effect.flip(signWebhook({ secret: Redacted.make(`whsec_${key}`), id, timestamp, body }))
        assert.instanceOf(error, InvalidWebhookSecret, key)
        if (key !== "") assert.notInclude(error.message, key, key)
      }
    })
  )

  it.effect("dies on a fractional timestamp", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(signWebhook({ secret, id, timestamp: 1.5, body }))
      assert.isTrue(Exit.hasDies(exit))
    })
  )
})

describe("verifyWebhook", () => {
  it.effect("verifies the known-answer vector", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      assert.deepStrictEqual(yield* verifyWebhook({ secret, headers, body }), { id, timestamp })
    })
  )

  it.effect("matches header names in any case", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      const mixedCase = {
        "Webhook-Id": id,
        "WEBHOOK-TIMESTAMP": String(timestamp),
        "Webhook-Signature": signature
      }
      assert.deepStrictEqual(yield* verifyWebhook({ secret, headers: mixedCase, body }), { id, timestamp })
    })
  )

  it.effect("accepts any matching signature in the list", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      const rotated = {
        ...headers,
        "webhook-signature": `v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1a,ignored ${signature}`
      }
      assert.deepStrictEqual(yield* verifyWebhook({ secret, headers: rotated, body }), { id, timestamp })
    })
  )

  it.effect("verifies what signWebhook signs", () =>
    Effect.gen(function* () {
      const fresh = yield* generateWebhookSecret
      const payload = new TextEncoder().encode('[{"year":"1990","vote_average":"8.1","quantity":"10"}]')
      const signed = yield* signWebhook({ secret: fresh, id: "delivery-1", timestamp: 1_700_000_000, body: payload })
      yield* setClock(1_700_000_000)
      const verified = yield* verifyWebhook({
        secret: fresh,
        headers: { "webhook-id": "delivery-1", "webhook-timestamp": "1700000000", "webhook-signature": signed },
        body: payload
      })
      assert.deepStrictEqual(verified, { id: "delivery-1", timestamp: 1_700_000_000 })
    })
  )

  it.effect("rejects a flipped body byte", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      for (let index = 0; index < body.length; index++) {
        const flipped = Uint8Array.from(body)
        flipped[index] = (flipped[index] ?? 0) ^ 0x01
        const error = yield* rejection({ secret, headers, body: flipped })
        assert.instanceOf(error, WebhookVerificationError)
        assert.strictEqual(error.reason, "bad-signature", `byte ${index}`)
      }
    })
  )

  it.effect("rejects a flipped signature byte", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      const changed = { ...headers, "webhook-signature": signature.replace("g0hM", "g0hN") }
      const error = yield* rejection({ secret, headers: changed, body })
      assert.strictEqual(error.reason, "bad-signature")
      assert.strictEqual(error.detail, "none of the 1 v1 signatures in webhook-signature matches the body")
    })
  )

  it.effect("rejects a truncated signature", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      const truncated = { ...headers, "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJE" }
      const error = yield* rejection({ secret, headers: truncated, body })
      assert.strictEqual(error.reason, "bad-signature")
    })
  )

  it.effect("signs the timestamp text as sent", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      // A sender that zero-pads the timestamp signs the padded text, and Number() would drop the zero.
      const key = Buffer.from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64")
      const padded = `0${timestamp}`
      const mac = createHmac("sha256", key).update(`${id}.${padded}.`).update(body).digest("base64")
      const sent = { ...headers, "webhook-timestamp": padded, "webhook-signature": `v1,${mac}` }
      assert.deepStrictEqual(yield* verifyWebhook({ secret, headers: sent, body }), { id, timestamp })
      const error = yield* rejection({ secret, headers: { ...headers, "webhook-timestamp": padded }, body })
      assert.strictEqual(error.reason, "bad-signature")
    })
  )

  it.effect("rejects another webhook-id", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      const error = yield* rejection({ secret, headers: { ...headers, "webhook-id": `${id}x` }, body })
      assert.strictEqual(error.reason, "bad-signature")
    })
  )

  it.effect("rejects another secret", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      const error = yield* rejection({ secret: yield* generateWebhookSecret, headers, body })
      assert.strictEqual(error.reason, "bad-signature")
    })
  )

  it.effect("rejects a header without v1 entries", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      const error = yield* rejection({ secret, headers: { ...headers, "webhook-signature": "v2,abc" }, body })
      assert.strictEqual(error.reason, "bad-signature")
      assert.strictEqual(error.detail, "webhook-signature has no v1 entry")
    })
  )

  it.effect("accepts a timestamp 300 s old or ahead", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp + 300)
      assert.deepStrictEqual(yield* verifyWebhook({ secret, headers, body }), { id, timestamp })
      yield* setClock(timestamp - 300)
      assert.deepStrictEqual(yield* verifyWebhook({ secret, headers, body }), { id, timestamp })
    })
  )

  it.effect("rejects a timestamp 301 s old", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp + 301)
      const error = yield* rejection({ secret, headers, body })
      assert.strictEqual(error.reason, "stale-timestamp")
      assert.strictEqual(
        error.detail,
        "webhook-timestamp 1614265330 is 301 s before the current time 1614265631, more than the 300 s allowed"
      )
    })
  )

  it.effect("rejects a timestamp 301 s ahead", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp - 301)
      const error = yield* rejection({ secret, headers, body })
      assert.strictEqual(error.reason, "stale-timestamp")
      assert.strictEqual(
        error.detail,
        "webhook-timestamp 1614265330 is 301 s after the current time 1614265029, more than the 300 s allowed"
      )
    })
  )

  it.effect("follows the TestClock", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      assert.deepStrictEqual(yield* verifyWebhook({ secret, headers, body }), { id, timestamp })
      yield* TestClock.adjust("301 seconds")
      assert.strictEqual((yield* rejection({ secret, headers, body })).reason, "stale-timestamp")
    })
  )

  it.effect("uses a custom tolerance", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp + 11)
      const error = yield* rejection({ secret, headers, body, toleranceSeconds: 10 })
      assert.strictEqual(error.reason, "stale-timestamp")
    })
  )

  it.effect("dies on a NaN tolerance", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp + 1_000_000)
      const exit = yield* Effect.exit(verifyWebhook({ secret, headers, body, toleranceSeconds: Number.NaN }))
      assert.isTrue(Exit.hasDies(exit))
    })
  )

  it.effect("rejects a timestamp that is not whole seconds", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      for (const value of ["1614265330.5", "-1614265330", "1e9", "0x60", " 1614265330", "2024-01-01T00:00:00Z"]) {
        const error = yield* rejection({ secret, headers: { ...headers, "webhook-timestamp": value }, body })
        assert.strictEqual(error.reason, "invalid-timestamp", value)
      }
    })
  )

  it.effect("rejects each missing header", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
        const { [name]: _removed, ...rest } = headers
        const missing = yield* rejection({ secret, headers: rest, body })
        assert.strictEqual(missing.reason, "missing-header", name)
        assert.strictEqual(missing.detail, `header ${name} is missing`)

        const empty = yield* rejection({ secret, headers: { ...headers, [name]: "" }, body })
        assert.strictEqual(empty.reason, "missing-header", `${name} empty`)

        const undefinedValue = yield* rejection({ secret, headers: { ...headers, [name]: undefined }, body })
        assert.strictEqual(undefinedValue.reason, "missing-header", `${name} undefined`)
      }
    })
  )

  it.effect("rejects an invalid secret first", () =>
    Effect.gen(function* () {
      yield* setClock(timestamp)
      const error = yield* Effect.flip(verifyWebhook({ secret: Redacted.make("secret"), headers: {}, body }))
      assert.instanceOf(error, InvalidWebhookSecret)
    })
  )
})

describe("generateWebhookSecret", () => {
  it.effect("makes whsec_ and 32 random bytes", () =>
    Effect.gen(function* () {
      const first = Redacted.value(yield* generateWebhookSecret)
      const second = Redacted.value(yield* generateWebhookSecret)
      assert.match(first, /^whsec_[A-Za-z0-9+/]{43}=$/)
      assert.strictEqual(atob(first.slice("whsec_".length)).length, 32)
      assert.notStrictEqual(first, second)
    })
  )

  it.effect("hides the secret in strings", () =>
    Effect.gen(function* () {
      const generated = yield* generateWebhookSecret
      assert.notInclude(String(generated), "whsec_")
      assert.notInclude(JSON.stringify({ generated }), "whsec_")
    })
  )
})

describe("decodeWebhookSecretKey", () => {
  it("returns the key bytes", () => {
    assert.deepStrictEqual(decodeWebhookSecretKey("whsec_AAEC"), new Uint8Array([0, 1, 2]))
    assert.strictEqual(decodeWebhookSecretKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.length, 24)
    assert.strictEqual(decodeWebhookSecretKey("whsec_")?.length, 0)
  })

  it("returns undefined without prefix or base64", () => {
    for (const text of ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_AAE", "whsec_not base64!", "WHSEC_AAEC"]) {
      assert.isUndefined(decodeWebhookSecretKey(text), text)
    }
  })
})
