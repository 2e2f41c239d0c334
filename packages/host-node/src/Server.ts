import { NodeHttpServer } from "@effect/platform-node"
import { RatingsApi } from "@tmdb-yearly/core"
import { Effect, Layer, Result } from "effect"
import type { Duration, Option, Redacted } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { NetAddress } from "effect/net"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { PrometheusMetrics } from "effect/observability"
import { createServer } from "node:http"
import { apiHandlers, StatusHeaders } from "./ApiHandlers.ts"
import { dashboardRoute } from "./DashboardRoute.ts"
import { requestValidationLayer, RouteNotFoundProblems } from "./RequestProblems.ts"
import { SchedulerHandle } from "./Scheduler.ts"
import { WebhookHandlers } from "./WebhookHandler.ts"

/** Settings of the routes. */
export interface RouteOptions {
  /** Bearer token that `POST /runs` requires, or none to accept requests without one. */
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
  /** Decimals of the average on the dashboard (`VOTE_AVERAGE_DECIMALS`). */
  readonly voteAverageDecimals: number
}

/**
 * Every route the host serves: the HttpApi (with `/openapi.json`), the API reference at `/docs`, the dashboard
 * at `/`, the Prometheus metrics at `/metrics`, the middleware that sets status-dependent headers, and the 404
 * problem for a request that matches no route. A new route layer is added here, and nowhere else.
 */
export const routes = (options: RouteOptions) =>
  Layer.mergeAll(
    HttpApiBuilder.layer(RatingsApi, { openapiPath: "/openapi.json" }).pipe(
      Layer.provide([apiHandlers(options.adminToken), WebhookHandlers])
    ),
    // Scalar's default fonts come from fonts.scalar.com, and the page should load nothing from other hosts.
    HttpApiScalar.layer(RatingsApi, { path: "/docs", scalar: { withDefaultFonts: false } }),
    dashboardRoute({ voteAverageDecimals: options.voteAverageDecimals }),
    PrometheusMetrics.layerHttp({ path: "/metrics" }),
    StatusHeaders,
    RouteNotFoundProblems
  )

/**
 * The listen address and shutdown timeout of the HTTP server, and the settings of its routes. Port 0 picks a
 * free port, which `HttpServer.address` reports.
 */
export interface ServerOptions extends RouteOptions {
  readonly port: number
  readonly host: string
  /** Time that shutdown waits for open requests before it interrupts them. */
  readonly gracefulShutdownTimeout: Duration.Input
}

/**
 * The HTTP server with every route of `routes`, on Node's `http` module. It provides `HttpServer`, whose
 * address the publisher reads when it posts to this host's own webhook, and an empty `SchedulerHandle`, which
 * the scheduler attaches to when it starts. The handlers still need `RatingsRepository`, `RunLog`, `Readiness`
 * and `WebhookSecret`.
 */
export const serverLayer = (options: ServerOptions) =>
  HttpRouter.serve(routes(options), { disableLogger: true }).pipe(
    Layer.provide(requestValidationLayer),
    Layer.provideMerge(
      NodeHttpServer.layer(createServer, {
        port: options.port,
        host: options.host,
        gracefulShutdownTimeout: options.gracefulShutdownTimeout
      })
    ),
    Layer.provideMerge(SchedulerHandle.layer)
  )

/**
 * Returns the base URL (`http://host:port`) at which this process reaches its own HTTP server. An unspecified
 * listen address such as `0.0.0.0` is replaced by 127.0.0.1, so the host posts to itself on loopback.
 */
export const serverBaseUrl: Effect.Effect<string, never, HttpServer.HttpServer> = Effect.gen(function* () {
  const server = yield* HttpServer.HttpServer
  const address = server.address
  if (NetAddress.isUnixPathAddress(address)) {
    return yield* Effect.die(new Error("The HTTP server listens on a Unix socket, which the publisher cannot reach"))
  }
  const url = Result.getOrThrow(NetAddress.toUrl(address))
  if (NetAddress.isUnspecified(address.address)) url.hostname = NetAddress.formatIp(NetAddress.ipv4Loopback)
  return url.origin
})
