import { Duration, Effect, Random } from "effect"

// An HTTP-date starts with a day name in all three forms RFC 9110 allows (IMF-fixdate, RFC 850 and asctime),
// so a value that does not is not parsed as a date: `Date.parse` accepts many other spellings.
const HTTP_DATE_START = /^[A-Za-z]{3}/

/**
 * Parses a `Retry-After` header value, in delay-seconds ("120") or HTTP-date ("Wed, 18 Feb 2026 07:28:00 GMT")
 * form. A date in the past gives zero. Returns `undefined` for a missing or malformed value, so that the
 * caller falls back to its own backoff.
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Duration.seconds(Number(trimmed))
  if (!HTTP_DATE_START.test(trimmed)) return undefined
  // The asctime form carries no zone and means GMT, but `Date.parse` would read it in the local zone.
  const dateMillis = Date.parse(/\bGMT$/i.test(trimmed) ? trimmed : `${trimmed} GMT`)
  if (Number.isNaN(dateMillis)) return undefined
  return Duration.millis(Math.max(0, dateMillis - nowMillis))
}

/**
 * Draws the delay before retry number `retry` (1 for the first retry) with full jitter: a whole number of
 * milliseconds, uniform between zero and `min(cap, base * 2^(retry - 1))`.
 */
export const fullJitterDelay = (
  retry: number,
  base: Duration.Duration,
  cap: Duration.Duration
): Effect.Effect<Duration.Duration> => {
  const ceilingMillis = Math.min(Duration.toMillis(cap), Duration.toMillis(base) * 2 ** (retry - 1))
  return Effect.map(Random.nextBetween(0, ceilingMillis), (millis) => Duration.millis(Math.round(millis)))
}
