import { assert, describe, it } from "@effect/vitest"
import { RatingsRepository, receiveDelivery, signWebhook } from "@tmdb-yearly/core"
import { DateTime, Effect, Option, Redacted } from "effect"
import { TestClock } from "effect/testing"

// 32 bytes of 0x01, in Standard Webhooks form.
const secret = Redacted.make(`whsec_${btoa(String.fromCharCode(...new Uint8Array(32).fill(1)))}`)
const otherSecret = Redacted.make(`whsec_${btoa(String.fromCharCode(...new Uint8Array(32).fill(2)))}`)

/** 2026-02-17T12:00:00Z, in milliseconds. */
const NOW_MILLIS = Date.UTC(2026, 1, 17, 12, 0, 0)

/** Signs `body` as delivery `id` at the test clock's time and receives it. */
const deliver = (id: string, body: string | Uint8Array, signingSecret = secret) =>
  Effect.gen(function* () {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body
    const timestamp = Math.floor(NOW_MILLIS / 1000)
    const signature = yield* signWebhook({ secret: signingSecret, id, timestamp, body: bytes })
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature,
      "content-type": "application/json"
    }
    return yield* receiveDelivery({ secret, headers, body: bytes })
  })

const latestDelivery = RatingsRepository.use((repository) => repository.latest)

const twoYears = JSON.stringify([
  { year: "1990", vote_average: "8.1", quantity: "10" },
  { year: 1991, vote_average: 7.25, quantity: 3, note: "ignored" }
])

const provideRepository = <A, E>(effect: Effect.Effect<A, E, RatingsRepository>) =>
  TestClock.setTime(NOW_MILLIS).pipe(Effect.andThen(effect), Effect.provide(RatingsRepository.layerMemory))

describe("receiveDelivery", () => {
  it.effect("stores a signed delivery", () =>
    provideRepository(
      Effect.gen(function* () {
        const result = yield* deliver("msg_1", twoYears)
        const latest = Option.getOrUndefined(yield* latestDelivery)

        assert.deepStrictEqual(result, { deliveryId: "msg_1", stored: true, rows: 2 })
        assert.strictEqual(latest?.id, "msg_1")
        assert.deepStrictEqual(latest?.rows, [
          { year: 1990, voteAverage: 8.1, quantity: 10 },
          { year: 1991, voteAverage: 7.25, quantity: 3 }
        ])
        assert.strictEqual(latest === undefined ? undefined : DateTime.toEpochMillis(latest.receivedAt), NOW_MILLIS)
      })
    )
  )

  it.effect("stores a repeated delivery id once", () =>
    provideRepository(
      Effect.gen(function* () {
        yield* deliver("msg_1", twoYears)
        const again = yield* deliver("msg_1", JSON.stringify([{ year: "2000", vote_average: "5", quantity: "1" }]))
        const latest = Option.getOrUndefined(yield* latestDelivery)
        const history1990 = yield* RatingsRepository.use((repository) => repository.yearHistory(1990))
        const history2000 = yield* RatingsRepository.use((repository) => repository.yearHistory(2000))

        assert.deepStrictEqual(again, { deliveryId: "msg_1", stored: false, rows: 2 })
        assert.strictEqual(latest?.rows.length, 2)
        assert.strictEqual(history1990.length, 1)
        assert.strictEqual(history2000.length, 0)
      })
    )
  )

  it.effect("rejects a bad signature", () =>
    provideRepository(
      Effect.gen(function* () {
        const error = yield* Effect.flip(deliver("msg_1", twoYears, otherSecret))

        assert.strictEqual(error._tag, "WebhookVerificationError")
        assert.strictEqual(error._tag === "WebhookVerificationError" ? error.reason : undefined, "bad-signature")
        assert.isTrue(Option.isNone(yield* latestDelivery))
      })
    )
  )

  it.effect("checks the signature before parsing", () =>
    provideRepository(
      Effect.gen(function* () {
        const error = yield* Effect.flip(deliver("msg_1", "not json", otherSecret))
        assert.strictEqual(error._tag, "WebhookVerificationError")
      })
    )
  )

  it.effect("rejects invalid JSON", () =>
    provideRepository(
      Effect.gen(function* () {
        const error = yield* Effect.flip(deliver("msg_1", '[{"year": "1990",'))

        assert.strictEqual(error._tag, "PayloadRejected")
        if (error._tag !== "PayloadRejected") return
        assert.strictEqual(error.path, "")
        assert.strictEqual(error.value, '[{"year": "1990",')
        assert.isTrue(error.detail.startsWith("valid JSON ("), error.detail)
        assert.isTrue(Option.isNone(yield* latestDelivery))
      })
    )
  )

  it.effect("rejects a body that is not UTF-8", () =>
    provideRepository(
      Effect.gen(function* () {
        const error = yield* Effect.flip(deliver("msg_1", new Uint8Array([0x5b, 0xff, 0x5d])))

        assert.strictEqual(error._tag, "PayloadRejected")
        if (error._tag !== "PayloadRejected") return
        assert.strictEqual(error.path, "")
        assert.strictEqual(error.value, "3 bytes")
        assert.strictEqual(error.detail, "JSON text encoded as UTF-8")
      })
    )
  )

  const invalidBodies: ReadonlyArray<{
    readonly name: string
    readonly body: unknown
    readonly path: string
    readonly value: string
    readonly detail: string
  }> = [
    {
      name: "an average above 10",
      body: [{ year: "1990", vote_average: "11", quantity: "10" }],
      path: "[0].vote_average",
      value: '"11"',
      detail: "a decimal from 0 to 10 with at most 3 decimals"
    },
    {
      name: "an average with four decimals",
      body: [{ year: "1990", vote_average: 8.1234, quantity: "10" }],
      path: "[0].vote_average",
      value: "8.1234",
      detail: "a number with at most 3 decimals"
    },
    {
      name: "a missing quantity",
      body: [
        { year: "1990", vote_average: "8.1", quantity: "10" },
        { year: "1991", vote_average: "8.1" }
      ],
      path: "[1].quantity",
      value: "(missing)",
      detail: "a value"
    },
    {
      name: "a zero quantity",
      body: [{ year: "1990", vote_average: "8.1", quantity: 0 }],
      path: "[0].quantity",
      value: "0",
      detail: "a value between 1 and 2147483647"
    },
    {
      name: "a quantity above PostgreSQL's integer range",
      body: [{ year: "1990", vote_average: "8.1", quantity: "2147483648" }],
      path: "[0].quantity",
      value: '"2147483648"',
      detail: "a value between 1 and 2147483647"
    },
    {
      name: "a five-digit year",
      body: [{ year: "19900", vote_average: "8.1", quantity: "1" }],
      path: "[0].year",
      value: '"19900"',
      detail: "a four-digit year"
    },
    {
      name: "an object body",
      body: { year: "1990" },
      path: "",
      value: '{"year":"1990"}',
      detail: "array"
    }
  ]

  for (const testCase of invalidBodies) {
    it.effect(`rejects ${testCase.name}`, () =>
      provideRepository(
        Effect.gen(function* () {
          const error = yield* Effect.flip(deliver("msg_1", JSON.stringify(testCase.body)))

          assert.strictEqual(error._tag, "PayloadRejected")
          if (error._tag !== "PayloadRejected") return
          assert.strictEqual(error.path, testCase.path)
          assert.strictEqual(error.value, testCase.value)
          assert.strictEqual(error.detail, testCase.detail)
          assert.isTrue(Option.isNone(yield* latestDelivery))
        })
      )
    )
  }

  it.effect("rejects a delivery id over 255 characters", () =>
    provideRepository(
      Effect.gen(function* () {
        const id = `msg_${"x".repeat(252)}`
        const error = yield* Effect.flip(deliver(id, twoYears))

        assert.strictEqual(error._tag, "PayloadRejected")
        if (error._tag !== "PayloadRejected") return
        assert.strictEqual(error.path, "webhook-id")
        assert.strictEqual(error.detail, "a delivery id of at most 255 characters")
        assert.isTrue(Option.isNone(yield* latestDelivery))
      })
    )
  )

  it.effect("accepts a delivery id of 255 characters", () =>
    provideRepository(
      Effect.gen(function* () {
        const id = `msg_${"x".repeat(251)}`
        const result = yield* deliver(id, twoYears)

        assert.deepStrictEqual(result, { deliveryId: id, stored: true, rows: 2 })
      })
    )
  )

  it.effect("rejects a duplicate year", () =>
    provideRepository(
      Effect.gen(function* () {
        const body = JSON.stringify([
          { year: "1990", vote_average: "8.1", quantity: "10" },
          { year: "1991", vote_average: "8.0", quantity: "2" },
          { year: 1990, vote_average: "7.5", quantity: "1" }
        ])
        const error = yield* Effect.flip(deliver("msg_1", body))

        assert.strictEqual(error._tag, "PayloadRejected")
        if (error._tag !== "PayloadRejected") return
        assert.strictEqual(error.path, "[2].year")
        assert.strictEqual(error.value, "1990")
        assert.strictEqual(error.detail, "each year at most once, but 1990 is also at [0].year")
        assert.strictEqual(
          error.message,
          "Invalid webhook body at [2].year: expected each year at most once, but 1990 is also at [0].year, got 1990"
        )
        assert.isTrue(Option.isNone(yield* latestDelivery))
      })
    )
  )
})
