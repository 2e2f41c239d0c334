import {
  DatabaseUnavailable,
  DEFAULT_RUNS_LIMIT,
  RatingsApi,
  RatingsNotFound,
  RatingsRepository,
  RETRY_AFTER_SECONDS,
  RunLog
} from "@tmdb-yearly/core"
import type { StorageError } from "@tmdb-yearly/core"
import { Effect, Layer, Option } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { Readiness } from "./Readiness.ts"

/**
 * Logs a storage failure and turns it into the 503 problem. The client sees the failed operation but not the
 * driver's message, which may name hosts and users.
 */
export const databaseUnavailable = (error: StorageError): Effect.Effect<never, DatabaseUnavailable> =>
  Effect.logWarning("Database unavailable").pipe(
    Effect.annotateLogs({ operation: error.operation, error: error.detail }),
    Effect.andThen(
      Effect.fail(
        new DatabaseUnavailable({
          detail: `The database is unavailable (${error.operation} failed). Retry after ${RETRY_AFTER_SECONDS} seconds.`
        })
      )
    )
  )

/**
 * Sets the headers that depend on the status alone, whichever route produced the response: `Retry-After` on
 * every 503, and `Connection: close` on every 413, so that Node does not read the rest of a rejected body to
 * keep the connection alive.
 */
export const StatusHeaders = HttpRouter.middleware(
  (httpEffect) =>
    Effect.map(httpEffect, (response) => {
      if (response.status === 503) {
        return HttpServerResponse.setHeader(response, "retry-after", String(RETRY_AFTER_SECONDS))
      }
      if (response.status === 413) return HttpServerResponse.setHeader(response, "connection", "close")
      return response
    }),
  { global: true }
)

/** `GET /yearly-ratings` and `GET /yearly-ratings/{year}`, read from the `RatingsRepository`. */
export const RatingsHandlers = HttpApiBuilder.group(RatingsApi, "ratings", (handlers) =>
  Effect.gen(function* () {
    const repository = yield* RatingsRepository
    return handlers
      .handle("latest", () =>
        Effect.gen(function* () {
          const latest = yield* repository.latest.pipe(Effect.catchTag("StorageError", databaseUnavailable))
          if (Option.isNone(latest)) {
            return yield* new RatingsNotFound({
              detail:
                "No yearly table has been received yet. The first run publishes one after start-up; see GET /runs."
            })
          }
          return {
            deliveryId: latest.value.id,
            receivedAt: latest.value.receivedAt,
            ratings: latest.value.rows
          }
        })
      )
      .handle("year", ({ params }) =>
        Effect.gen(function* () {
          const history = yield* repository
            .yearHistory(params.year)
            .pipe(Effect.catchTag("StorageError", databaseUnavailable))
          if (history.length === 0) {
            return yield* new RatingsNotFound({ detail: `No stored delivery has a row for the year ${params.year}.` })
          }
          return { year: params.year, history }
        })
      )
  })
)

/** `GET /runs`, read from the `RunLog`. */
export const RunsHandlers = HttpApiBuilder.group(RatingsApi, "runs", (handlers) =>
  Effect.gen(function* () {
    const runLog = yield* RunLog
    return handlers.handle("recent", ({ query }) =>
      runLog.recent(query.limit ?? DEFAULT_RUNS_LIMIT).pipe(Effect.catchTag("StorageError", databaseUnavailable))
    )
  })
)

/** `GET /health/live` and `GET /health/ready`. */
export const HealthHandlers = HttpApiBuilder.group(RatingsApi, "health", (handlers) =>
  Effect.gen(function* () {
    const readiness = yield* Readiness
    return handlers
      .handle("live", () => Effect.succeed({ status: "live" as const }))
      .handle("ready", () =>
        readiness.check.pipe(
          Effect.as({ status: "ready" as const }),
          Effect.catchTag("StorageError", databaseUnavailable)
        )
      )
  })
)

/** The handlers of every group except the webhook, which needs the secret and lives in its own module. */
export const ReadHandlers = Layer.mergeAll(RatingsHandlers, RunsHandlers, HealthHandlers)
