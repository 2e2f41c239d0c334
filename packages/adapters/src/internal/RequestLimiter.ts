import { Duration, Effect } from "effect"

/**
 * Creates a limiter that lets at most `limit` requests start within any `window` of time. Each call of the
 * returned effect reserves the earliest start that keeps that bound and sleeps until it. Reservations are
 * made in call order, so concurrent callers are served first come, first served.
 *
 * The bound is exact for a sliding window, unlike a token bucket or a fixed window, which let up to twice the
 * limit through around a window edge. A caller interrupted while it sleeps still uses up its slot.
 */
export const makeRequestLimiter = (limit: number, window: Duration.Input): Effect.Effect<Effect.Effect<void>> =>
  Effect.sync(() => {
    const windowMillis = Duration.toMillis(window)
    // The reserved start times of the last `limit` requests, in ascending order.
    const recentStarts: Array<number> = []
    const reserve = Effect.clockWith((clock) =>
      Effect.sync(() => {
        const now = clock.currentTimeMillisUnsafe()
        const oldest = recentStarts.length === limit ? recentStarts.shift() : undefined
        const start = oldest === undefined ? now : Math.max(now, oldest + windowMillis)
        recentStarts.push(start)
        return start - now
      })
    )
    return Effect.flatMap(reserve, (waitMillis) => (waitMillis > 0 ? Effect.sleep(waitMillis) : Effect.void))
  })
