import { StorageError } from "@tmdb-yearly/core"
import { Duration, Effect, Fiber } from "effect"

/**
 * Time limit of each database read behind an HTTP request: the API's reads, the dashboard and the readiness
 * check. A hung database then gives a 503 within seconds, well before the 30 s after which many HTTP clients
 * give up.
 */
export const DATABASE_READ_TIMEOUT = Duration.seconds(3)

/**
 * Runs a database read with the `DATABASE_READ_TIMEOUT` limit, and fails with a `StorageError` that names
 * `operation` when the limit passes first.
 *
 * The read runs in a detached fiber, which is interrupted in the background after the limit, so the request
 * does not wait for the interruption. On a hung server the PostgreSQL driver sends a cancel request and waits
 * up to 5 s for it (@effect/sql-pg 4.1.5). Waiting for that would add those 5 s to the response time.
 */
export const withReadTimeout =
  (operation: string) =>
  <A, R>(read: Effect.Effect<A, StorageError, R>): Effect.Effect<A, StorageError, R> =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkDetach(read)
      const interruptInBackground = Effect.forkDetach(Fiber.interrupt(fiber))
      return yield* Fiber.join(fiber).pipe(
        Effect.timeoutOrElse({
          duration: DATABASE_READ_TIMEOUT,
          orElse: () =>
            interruptInBackground.pipe(
              Effect.andThen(
                Effect.fail(
                  new StorageError({
                    operation,
                    detail: `no response within ${Duration.format(DATABASE_READ_TIMEOUT)}`
                  })
                )
              )
            )
        }),
        Effect.onInterrupt(() => interruptInBackground)
      )
    })
