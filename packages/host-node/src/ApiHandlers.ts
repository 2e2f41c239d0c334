import {
  AdminTokenRejected,
  CrossOriginRejected,
  DatabaseUnavailable,
  DEFAULT_RUNS_LIMIT,
  RatingsApi,
  RatingsNotFound,
  RatingsRepository,
  RETRY_AFTER_SECONDS,
  RunAlreadyInProgress,
  RunLog,
  SchedulerUnavailable
} from "@tmdb-yearly/core"
import type { StorageError } from "@tmdb-yearly/core"
import { Effect, Layer, Option } from "effect"
import type { Redacted } from "effect"
import { HttpEffect, HttpRouter, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { bearerTokenMatches } from "./AdminToken.ts"
import { withReadTimeout } from "./DatabaseReadTimeout.ts"
import { Readiness } from "./Readiness.ts"
import { SchedulerHandle } from "./Scheduler.ts"

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

/**
 * `GET /yearly-ratings` and `GET /yearly-ratings/{year}`, read from the `RatingsRepository`. A read that takes
 * longer than `DATABASE_READ_TIMEOUT` gets the 503 problem.
 */
export const RatingsHandlers = HttpApiBuilder.group(RatingsApi, "ratings", (handlers) =>
  Effect.gen(function* () {
    const repository = yield* RatingsRepository
    return handlers
      .handle("latest", () =>
        Effect.gen(function* () {
          const latest = yield* repository.latest.pipe(
            withReadTimeout("RatingsRepository.latest"),
            Effect.catchTag("StorageError", databaseUnavailable)
          )
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
            .pipe(
              withReadTimeout("RatingsRepository.yearHistory"),
              Effect.catchTag("StorageError", databaseUnavailable)
            )
          if (history.length === 0) {
            return yield* new RatingsNotFound({ detail: `No stored delivery has a row for the year ${params.year}.` })
          }
          return { year: params.year, history }
        })
      )
  })
)

/**
 * Fails with `AdminTokenRejected`, and sets `WWW-Authenticate: Bearer` on the response, unless the admin token
 * is unset or the `Authorization` header carries it.
 */
const requireAdminToken = (adminToken: Option.Option<Redacted.Redacted<string>>, authorization: string | undefined) => {
  if (Option.isNone(adminToken) || bearerTokenMatches(adminToken.value, authorization)) return Effect.void
  return HttpEffect.appendPreResponseHandler((_request, response) =>
    Effect.succeed(HttpServerResponse.setHeader(response, "www-authenticate", 'Bearer realm="tmdb-yearly"'))
  ).pipe(
    Effect.andThen(Effect.logWarning("Run request rejected: missing or wrong admin token")),
    Effect.andThen(
      Effect.fail(
        new AdminTokenRejected({
          detail:
            authorization === undefined
              ? "This service requires Authorization: Bearer <ADMIN_TOKEN> to start a run."
              : "The bearer token does not match ADMIN_TOKEN."
        })
      )
    )
  )
}

/**
 * Fails with `CrossOriginRejected` when `origin` is set and names another host than `host`. Browsers set
 * `Origin` on every cross-origin POST, and command-line clients such as curl send none.
 */
const requireSameOrigin = (origin: string | undefined, host: string | undefined) => {
  if (origin === undefined) return Effect.void
  let originHost: string | undefined
  try {
    originHost = new URL(origin).host
  } catch {
    originHost = undefined
  }
  if (host !== undefined && originHost === host) return Effect.void
  return Effect.logWarning("Run request rejected: cross-origin").pipe(
    Effect.annotateLogs({ origin: origin.slice(0, 200) }),
    Effect.andThen(
      Effect.fail(
        new CrossOriginRejected({
          detail: `POST /runs is not accepted from a web page of origin ${origin.slice(0, 200)}. Send it without an Origin header, for example with curl.`
        })
      )
    )
  )
}

/**
 * `GET /runs`, read from the `RunLog` within `DATABASE_READ_TIMEOUT`, and `POST /runs`, which starts a run
 * through the `SchedulerHandle`. When `adminToken` is set, `POST /runs` requires it as a bearer token.
 */
export const runsHandlers = (adminToken: Option.Option<Redacted.Redacted<string>>) =>
  HttpApiBuilder.group(RatingsApi, "runs", (handlers) =>
    Effect.gen(function* () {
      const runLog = yield* RunLog
      const schedulerHandle = yield* SchedulerHandle
      const readiness = yield* Readiness
      return handlers
        .handle("recent", ({ query }) =>
          runLog
            .recent(query.limit ?? DEFAULT_RUNS_LIMIT)
            .pipe(withReadTimeout("RunLog.recent"), Effect.catchTag("StorageError", databaseUnavailable))
        )
        .handle("start", ({ headers }) =>
          Effect.gen(function* () {
            yield* requireSameOrigin(headers.origin, headers.host)
            yield* requireAdminToken(adminToken, headers.authorization)
            const scheduler = yield* schedulerHandle.current
            if (Option.isNone(scheduler)) {
              return yield* new SchedulerUnavailable({
                detail: `The scheduler is not running, because the service is starting or shutting down. Retry after ${RETRY_AFTER_SECONDS} seconds.`
              })
            }
            // A run whose start cannot be recorded would be accepted and then never reported.
            yield* readiness.check.pipe(Effect.catchTag("StorageError", databaseUnavailable))
            const runId = yield* scheduler.value.startNow.pipe(
              Effect.catchTag("RunInProgress", (error) =>
                Effect.logInfo("Run request rejected: a run is in progress").pipe(
                  Effect.annotateLogs({ run_id: error.runId }),
                  Effect.andThen(Effect.fail(new RunAlreadyInProgress({ detail: error.message, run_id: error.runId })))
                )
              )
            )
            yield* Effect.logInfo("Run request accepted").pipe(Effect.annotateLogs({ run_id: runId }))
            return { runId }
          }).pipe(Effect.annotateLogs({ route: "runs" }))
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

/**
 * The handlers of every group except the webhook, which needs the secret and lives in its own module.
 * `adminToken` is the bearer token that `POST /runs` requires, or none to accept requests without one.
 */
export const apiHandlers = (adminToken: Option.Option<Redacted.Redacted<string>>) =>
  Layer.mergeAll(RatingsHandlers, runsHandlers(adminToken), HealthHandlers)
