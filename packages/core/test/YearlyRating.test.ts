import { assert, describe, it } from "@effect/vitest"
import { MAX_QUANTITY, VoteAverage, YearlyRatingsPayload } from "@tmdb-yearly/core"
import { Effect, Schema } from "effect"

const decode = Schema.decodeUnknownEffect(YearlyRatingsPayload)

/** Decodes a body that must be rejected and returns the error message, which lists each failing path. */
const rejectionMessage = (body: unknown) => Effect.map(Effect.flip(decode(body)), (error) => error.message)

const row = { year: "1990", vote_average: "8.1", quantity: "10" }

describe("YearlyRatingsPayload", () => {
  it.effect("decodes string values", () =>
    Effect.gen(function* () {
      const rows = yield* decode([row, { year: "2025", vote_average: "6.792", quantity: "151" }])
      assert.deepStrictEqual(rows, [
        { year: 1990, voteAverage: 8.1, quantity: 10 },
        { year: 2025, voteAverage: 6.792, quantity: 151 }
      ])
    })
  )

  it.effect("decodes JSON numbers", () =>
    Effect.gen(function* () {
      const rows = yield* decode(JSON.parse('[{"year": 1990, "vote_average": 8.1, "quantity": 10}]'))
      assert.deepStrictEqual(rows, [{ year: 1990, voteAverage: 8.1, quantity: 10 }])
    })
  )

  it.effect("decodes the bounds of each field", () =>
    Effect.gen(function* () {
      const rows = yield* decode([
        { year: "1000", vote_average: "0", quantity: "1" },
        { year: "9999", vote_average: "10.000", quantity: String(MAX_QUANTITY) }
      ])
      assert.deepStrictEqual(rows, [
        { year: 1000, voteAverage: 0, quantity: 1 },
        { year: 9999, voteAverage: 10, quantity: MAX_QUANTITY }
      ])
    })
  )

  it.effect("ignores unknown fields", () =>
    Effect.gen(function* () {
      const rows = yield* decode([{ ...row, title: "x", voteAverage: "3.3" }])
      assert.deepStrictEqual(rows, [{ year: 1990, voteAverage: 8.1, quantity: 10 }])
    })
  )

  it.effect("decodes an empty body array", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* decode([]), [])
    })
  )

  it.effect("encodes every value as a string", () =>
    Effect.gen(function* () {
      const wire = yield* Schema.encodeEffect(YearlyRatingsPayload)([
        { year: 1990, voteAverage: 8.1, quantity: 10 },
        { year: 2025, voteAverage: 6.792, quantity: 151 }
      ])
      assert.deepStrictEqual(wire, [row, { year: "2025", vote_average: "6.792", quantity: "151" }])
    })
  )

  it.effect("rejects bad years", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        ["199", 'Expected a four-digit year\n  at [0]["year"]'],
        ["19900", 'Expected a four-digit year\n  at [0]["year"]'],
        ["1990 ", 'Expected a four-digit year\n  at [0]["year"]'],
        ["0999", 'Expected a value between 1000 and 9999\n  at [0]["year"]'],
        [999, 'Expected a value between 1000 and 9999\n  at [0]["year"]'],
        [1990.5, 'Expected an integer\n  at [0]["year"]'],
        [null, 'Expected string | number\n  at [0]["year"]']
      ]
      for (const [year, expected] of cases) {
        assert.strictEqual(yield* rejectionMessage([{ ...row, year }]), expected, `year ${JSON.stringify(year)}`)
      }
    })
  )

  it.effect("rejects bad vote averages", () =>
    Effect.gen(function* () {
      const wireExpected = 'Expected a decimal from 0 to 10 with at most 3 decimals\n  at [0]["vote_average"]'
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        ["10.5", wireExpected],
        ["8.1234", wireExpected],
        ["-1", wireExpected],
        ["8.", wireExpected],
        ["08.1", wireExpected],
        ["8,1", wireExpected],
        ["", wireExpected],
        [10.5, 'Expected a value between 0 and 10\n  at [0]["vote_average"]'],
        [8.1234, 'Expected a number with at most 3 decimals\n  at [0]["vote_average"]'],
        [1e-300, 'Expected a number with at most 3 decimals\n  at [0]["vote_average"]']
      ]
      for (const [voteAverage, expected] of cases) {
        const message = yield* rejectionMessage([{ ...row, vote_average: voteAverage }])
        assert.strictEqual(message, expected, `vote_average ${JSON.stringify(voteAverage)}`)
      }
    })
  )

  it.effect("rejects bad quantities", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        ["0", 'Expected a positive integer\n  at [0]["quantity"]'],
        ["010", 'Expected a positive integer\n  at [0]["quantity"]'],
        ["1.5", 'Expected a positive integer\n  at [0]["quantity"]'],
        [0, 'Expected a value between 1 and 2147483647\n  at [0]["quantity"]'],
        ["2147483648", 'Expected a value between 1 and 2147483647\n  at [0]["quantity"]'],
        [1.5, 'Expected an integer\n  at [0]["quantity"]'],
        ["9007199254740993", 'Expected an integer\n  at [0]["quantity"]'],
        [true, 'Expected string | number\n  at [0]["quantity"]']
      ]
      for (const [quantity, expected] of cases) {
        assert.strictEqual(
          yield* rejectionMessage([{ ...row, quantity }]),
          expected,
          `quantity ${JSON.stringify(quantity)}`
        )
      }
    })
  )

  it.effect("rejects a missing field", () =>
    Effect.gen(function* () {
      const message = yield* rejectionMessage([row, { year: "1991", quantity: "1" }])
      assert.strictEqual(message, 'Missing key\n  at [1]["vote_average"]')
    })
  )

  it.effect("rejects a body that is not an array", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* rejectionMessage({ rows: [row] }), "Expected array")
    })
  )

  it.effect("rejects a duplicate year", () =>
    Effect.gen(function* () {
      const message = yield* rejectionMessage([
        row,
        { year: "1991", vote_average: "7", quantity: "2" },
        { year: 1990, vote_average: 5, quantity: 1 }
      ])
      assert.strictEqual(message, 'Year 1990 appears more than once\n  at [2]["year"]')
    })
  )
})

describe("VoteAverage", () => {
  it("accepts every value with three decimals", () => {
    const accepts = Schema.is(VoteAverage)
    for (let thousandths = 0; thousandths <= 10_000; thousandths++) {
      const value = JSON.parse(String(thousandths / 1000))
      if (!accepts(value)) assert.fail(`${thousandths / 1000} was rejected`)
    }
  })

  it("rejects more than three decimals", () => {
    const accepts = Schema.is(VoteAverage)
    for (const value of [0.0001, 8.7155, 0.1 + 0.2, 1e-300, 5e-324, 9.999999999999982]) {
      assert.isFalse(accepts(value), String(value))
    }
  })
})
