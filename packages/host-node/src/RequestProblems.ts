import { InvalidParameter, RequestValidation, RouteNotFound } from "@tmdb-yearly/core"
import { Effect, SchemaIssue } from "effect"
import { HttpRouter, HttpServerError, HttpServerRequest, HttpServerRespondable } from "effect/http"
import { HttpApiError, HttpApiMiddleware } from "effect/http-api"

/** Longest path that a 404 problem repeats. A longer path is cut there and ends with "…". */
const MAX_ECHOED_PATH = 200

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** The name of each request part in the `detail` of a problem, such as "path parameter". */
const LOCATIONS: Record<HttpApiError.HttpApiSchemaError["kind"], string> = {
  Params: "path parameter",
  Query: "query parameter",
  Headers: "header",
  Payload: "body field",
  Body: "response body",
  ResponseHeaders: "response header"
}

/**
 * Returns the raw value of a path or query parameter: a string, an array for a query parameter given more than
 * once, or undefined when it is absent. Headers are never read back, because they may carry a credential.
 */
const receivedValue = (kind: HttpApiError.HttpApiSchemaError["kind"], name: string) =>
  Effect.gen(function* () {
    if (kind === "Params") return (yield* HttpRouter.RouteContext).params[name]
    if (kind === "Query") return (yield* HttpServerRequest.ParsedSearchParams)[name]
    return undefined
  })

/**
 * The server side of `RequestValidation`. A path or query parameter that fails decoding gets a 400
 * `InvalidParameter` whose `detail` names the parameter, repeats the value and states what is allowed, for
 * example `Invalid path parameter year="1e3": expected a four-digit year from 1000 to 9999`. A response that
 * fails its own schema is a bug in this service: it is logged and gets a 500 problem without detail.
 */
export const requestValidationLayer = HttpApiMiddleware.layerSchemaErrorTransform(RequestValidation, (error) =>
  Effect.gen(function* () {
    if (error.kind === "Body" || error.kind === "ResponseHeaders") {
      yield* Effect.logError("Response does not match its schema", error.cause).pipe(
        Effect.annotateLogs({ location: LOCATIONS[error.kind] })
      )
      return yield* new HttpApiError.InternalServerErrorProblem()
    }
    const issue = formatIssues(error.cause.issue).issues[0]
    const name = issue?.path?.[0] === undefined ? "" : String(issue.path[0])
    const received = yield* receivedValue(error.kind, name)
    const value = received === undefined ? null : JSON.stringify(received)
    const message = issue?.message ?? "Invalid value"
    const reason = Array.isArray(received)
      ? `expected one value, but the request has ${received.length}`
      : message.startsWith("Expected ")
        ? `expected ${message.slice("Expected ".length)}`
        : message
    const parameterText = value === null ? name : `${name}=${value}`
    return yield* new InvalidParameter({
      detail: `Invalid ${LOCATIONS[error.kind]} ${parameterText}: ${reason}.`,
      parameter: name,
      value
    })
  })
)

const isRouteNotFound = (error: unknown): error is HttpServerError.HttpServerError =>
  HttpServerError.isHttpServerError(error) && error.reason._tag === "RouteNotFound"

/**
 * Responds to a request that matches no route with a 404 `RouteNotFound` problem that names the method and the
 * path, instead of an empty 404. It applies to every route of the server.
 */
export const RouteNotFoundProblems = HttpRouter.middleware(
  (httpEffect) =>
    Effect.catch(httpEffect, (error) => {
      if (!isRouteNotFound(error)) return Effect.fail(error)
      return Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const fullPath = new URL(request.url, "http://host.invalid").pathname
        const path = fullPath.length > MAX_ECHOED_PATH ? `${fullPath.slice(0, MAX_ECHOED_PATH)}…` : fullPath
        const problem = new RouteNotFound({
          detail: `No route matches ${request.method} ${path}. The endpoints are listed at /openapi.json.`,
          method: request.method,
          path
        })
        return yield* HttpServerRespondable.toResponse(problem)
      })
    }),
  { global: true }
)
