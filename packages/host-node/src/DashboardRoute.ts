import { RatingsRepository, RETRY_AFTER_SECONDS, RunLog } from "@tmdb-yearly/core"
import { Effect, Layer, Option } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { renderDashboard, renderDashboardUnavailable } from "./Dashboard.ts"
import { withReadTimeout } from "./DatabaseReadTimeout.ts"
import { SchedulerHandle } from "./Scheduler.ts"

/** Number of recent runs that the dashboard lists. */
export const DASHBOARD_RUNS = 10

/**
 * Response headers of every dashboard page. The policy allows the inline styles and the empty data-URL
 * favicon and nothing else, so a page that tried to load a script, a font or an image would fail in the
 * browser tests. The page shows live data, so it is never cached.
 */
const PAGE_HEADERS = {
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
  "x-content-type-options": "nosniff"
}

const htmlPage = (body: string, status: number) =>
  HttpServerResponse.text(body, { status, contentType: "text/html; charset=utf-8", headers: PAGE_HEADERS })

/**
 * `GET /`: the dashboard, rendered on the server from the latest delivery, the last `DASHBOARD_RUNS` runs and
 * the scheduler's next run time. Averages are printed with `voteAverageDecimals` decimals. When the database
 * cannot be read within `DATABASE_READ_TIMEOUT`, the page reports that with status 503, and `StatusHeaders`
 * adds `Retry-After`.
 */
export const dashboardRoute = (options: { readonly voteAverageDecimals: number }) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const router = yield* HttpRouter.HttpRouter
      const repository = yield* RatingsRepository
      const runLog = yield* RunLog
      const schedulerHandle = yield* SchedulerHandle

      const page = Effect.gen(function* () {
        const [latest, runs] = yield* Effect.all([repository.latest, runLog.recent(DASHBOARD_RUNS)], {
          concurrency: 2
        }).pipe(withReadTimeout("Dashboard.read"))
        const scheduler = yield* schedulerHandle.current
        const nextRunAt = Option.isSome(scheduler) ? yield* scheduler.value.nextRunAt : Option.none()
        const body = renderDashboard({
          latest,
          runs,
          nextRunAt: Option.getOrUndefined(nextRunAt),
          voteAverageDecimals: options.voteAverageDecimals
        })
        return htmlPage(body, 200)
      }).pipe(
        Effect.catchTag("StorageError", (error) =>
          Effect.logWarning("Dashboard unavailable: the database did not respond").pipe(
            Effect.annotateLogs({ route: "dashboard", operation: error.operation, error: error.detail }),
            Effect.as(htmlPage(renderDashboardUnavailable(RETRY_AFTER_SECONDS), 503))
          )
        )
      )
      yield* router.add("GET", "/", page)
    })
  )
