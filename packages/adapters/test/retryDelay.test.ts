import { assert, it } from "@effect/vitest"
import { Duration, Effect, Random } from "effect"
import { fullJitterDelay, parseRetryAfter } from "../src/internal/retryDelay.ts"

const NOW = Date.parse("2026-02-18T07:28:00Z")

const millisOf = (value: string) => {
  const delay = parseRetryAfter(value, NOW)
  return delay === undefined ? undefined : Duration.toMillis(delay)
}

it("Retry-After in seconds", () => {
  assert.strictEqual(millisOf("2"), 2000)
  assert.strictEqual(millisOf(" 120 "), 120_000)
  assert.strictEqual(millisOf("0"), 0)
})

it("Retry-After in the three HTTP-date forms", () => {
  assert.strictEqual(millisOf("Wed, 18 Feb 2026 07:28:05 GMT"), 5000)
  assert.strictEqual(millisOf("Wednesday, 18-Feb-26 07:28:05 GMT"), 5000)
  assert.strictEqual(millisOf("Wed Feb 18 07:28:05 2026"), 5000)
})

it("Retry-After date in the past is zero", () => {
  assert.strictEqual(millisOf("Wed, 18 Feb 2026 07:27:00 GMT"), 0)
})

it("malformed Retry-After is ignored", () => {
  for (const value of ["", "soon", "1.5", "-1", "2026-02-18T07:28:05Z", "Wed, 99 Foo 2026 07:28:05 GMT"]) {
    assert.strictEqual(millisOf(value), undefined, JSON.stringify(value))
  }
  assert.strictEqual(parseRetryAfter(undefined, NOW), undefined)
})

it.effect("full jitter stays under the doubling ceiling", () =>
  Effect.gen(function* () {
    const base = Duration.millis(500)
    const cap = Duration.seconds(30)
    for (let retry = 1; retry <= 12; retry++) {
      const ceiling = Math.min(30_000, 500 * 2 ** (retry - 1))
      const draws: Array<number> = []
      for (let draw = 0; draw < 200; draw++) {
        draws.push(Duration.toMillis(yield* fullJitterDelay(retry, base, cap)))
      }
      assert.isAtLeast(Math.min(...draws), 0)
      assert.isAtMost(Math.max(...draws), ceiling)
      // With 200 uniform draws, the largest one lies in the top half of the range.
      assert.isAbove(Math.max(...draws), ceiling / 2, `retry ${retry}`)
      assert.isTrue(draws.every(Number.isInteger))
    }
  }).pipe(Random.withSeed("tmdb-yearly"))
)
