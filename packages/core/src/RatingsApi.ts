import { Schema, SchemaGetter } from "effect"
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiError,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  OpenApi
} from "effect/http-api"
import { RunReport } from "./RunReport.ts"
import { WebhookVerificationReason } from "./WebhookSignature.ts"
import { Year, YearlyRatingsPayload, YearlyRatingWire } from "./YearlyRating.ts"

// The HTTP contract of the service. It imports no server code, so another app can build a typed client with
// `HttpApiClient.make(RatingsApi)`. JSON on the wire is snake_case, like the webhook body, and the decoded
// types are camelCase.

/** Path of the webhook receiver. */
export const WEBHOOK_PATH = "/webhooks/yearly-ratings"

/** Largest webhook body the receiver reads, in bytes (64 KiB). A larger body is rejected before any hashing. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024

/** Seconds a client should wait before retrying after a 503, sent as `Retry-After`. */
export const RETRY_AFTER_SECONDS = 5

/** Default and maximum number of run reports that `GET /runs` returns. */
export const DEFAULT_RUNS_LIMIT = 20
export const MAX_RUNS_LIMIT = 100

// ---------------------------------------------------------------------------------------------------------
// Request parameters
// ---------------------------------------------------------------------------------------------------------

/** Decodes a path or query parameter that matches `pattern` to a number checked by `target`. */
const numberParameter = <S extends Schema.Top & { readonly Type: number; readonly Encoded: number }>(
  pattern: RegExp,
  expected: string,
  target: S
) =>
  Schema.String.pipe(
    Schema.check(Schema.isPattern(pattern, { expected })),
    Schema.annotate({ description: expected.charAt(0).toUpperCase() + expected.slice(1) }),
    Schema.decodeTo(target, {
      decode: SchemaGetter.transform((text: string) => Number(text)),
      encode: SchemaGetter.transform((value: number) => String(value))
    })
  )

/**
 * The `{year}` of `GET /yearly-ratings/{year}`: four digits from 1000 to 9999, the rule of the webhook's `year`.
 * Forms that `Number` also reads, such as `1e3` or `1994.0`, are rejected.
 */
export const YearPathParameter = numberParameter(/^[1-9][0-9]{3}$/, "a four-digit year from 1000 to 9999", Year)

/** The `limit` of `GET /runs`: a whole number from 1 to `MAX_RUNS_LIMIT`, in decimal digits. */
export const RunsLimitParameter = numberParameter(
  /^(100|[1-9][0-9]?)$/,
  `an integer from 1 to ${MAX_RUNS_LIMIT}`,
  Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MAX_RUNS_LIMIT })))
)

// ---------------------------------------------------------------------------------------------------------
// Response bodies
// ---------------------------------------------------------------------------------------------------------

/**
 * The body of `GET /yearly-ratings`: the latest stored delivery. `ratings` is the table in the webhook's wire
 * form, every value a string; `delivery_id` and `received_at` (ISO 8601, UTC) identify the delivery.
 */
export const LatestRatings = Schema.Struct({
  deliveryId: Schema.String,
  receivedAt: Schema.DateTimeUtcFromString,
  ratings: Schema.Array(YearlyRatingWire)
}).pipe(Schema.encodeKeys({ deliveryId: "delivery_id", receivedAt: "received_at" }))
export type LatestRatings = typeof LatestRatings.Type

/** One year's row in one stored delivery. Numbers are strings on the wire, as in the webhook body. */
export const YearHistoryEntryWire = Schema.Struct({
  deliveryId: Schema.String,
  receivedAt: Schema.DateTimeUtcFromString,
  voteAverage: Schema.FiniteFromString,
  quantity: Schema.FiniteFromString
}).pipe(Schema.encodeKeys({ deliveryId: "delivery_id", receivedAt: "received_at", voteAverage: "vote_average" }))
export type YearHistoryEntryWire = typeof YearHistoryEntryWire.Type

/** The body of `GET /yearly-ratings/{year}`: the year and its row from every stored delivery, oldest first. */
export const YearHistoryResponse = Schema.Struct({
  year: Schema.FiniteFromString,
  history: Schema.Array(YearHistoryEntryWire)
})
export type YearHistoryResponse = typeof YearHistoryResponse.Type

/** A run report on the wire: the fields of `RunReport` in snake_case, times in ISO 8601 UTC. */
export const RunReportWire = Schema.Struct(RunReport.fields).pipe(
  Schema.encodeKeys({
    runId: "run_id",
    startedAt: "started_at",
    finishedAt: "finished_at",
    pagesRequested: "pages_requested",
    pagesRead: "pages_read",
    deliveryId: "delivery_id"
  })
)
export type RunReportWire = typeof RunReportWire.Type

/** The body of the webhook's 201: the delivery was stored now. */
export const DeliveryStored = Schema.Struct({
  deliveryId: Schema.String,
  stored: Schema.Literal(true)
}).pipe(Schema.encodeKeys({ deliveryId: "delivery_id" }), HttpApiSchema.status(201))

/** The body of the webhook's 200: that delivery id was already stored, and nothing was written again. */
export const DeliveryAlreadyStored = Schema.Struct({
  deliveryId: Schema.String,
  stored: Schema.Literal(false)
}).pipe(Schema.encodeKeys({ deliveryId: "delivery_id" }), HttpApiSchema.status(200))

/**
 * The body of `POST /runs`'s 202: the run has started and goes on in the background. Its report appears in
 * `GET /runs` under `run_id`, with outcome `running` until it finishes.
 */
export const RunAccepted = Schema.Struct({ runId: Schema.String }).pipe(
  Schema.encodeKeys({ runId: "run_id" }),
  HttpApiSchema.status(202)
)
export type RunAccepted = typeof RunAccepted.Type

/** The body of `GET /health/live` and of a successful `GET /health/ready`. */
export const HealthStatus = Schema.Struct({ status: Schema.Literals(["live", "ready"]) })

// ---------------------------------------------------------------------------------------------------------
// Problems (RFC 9457, application/problem+json)
// ---------------------------------------------------------------------------------------------------------

/**
 * 400: the webhook body is not JSON or not a valid yearly table. `path` locates the first issue
 * (`[3].vote_average`, or `""` for the body itself) and `value` is the value found there, as JSON text.
 */
export class InvalidPayload extends HttpApiError.Problem<InvalidPayload>()(
  "InvalidPayload",
  {
    type: "urn:tmdb-yearly:problem:invalid-payload",
    status: 400,
    title: "Invalid webhook body"
  },
  {
    path: Schema.String,
    value: Schema.String
  }
) {}

/**
 * 400: a path or query parameter is invalid. `parameter` names it, `value` is the value received as JSON text
 * (null for a header, which may carry a credential), and `detail` states what is allowed.
 */
export class InvalidParameter extends HttpApiError.Problem<InvalidParameter>()(
  "InvalidParameter",
  {
    type: "urn:tmdb-yearly:problem:invalid-parameter",
    status: 400,
    title: "Invalid request parameter"
  },
  {
    parameter: Schema.String,
    value: Schema.NullOr(Schema.String)
  }
) {}

/** 401: a `webhook-*` header is missing, the timestamp is invalid or stale, or the signature does not match. */
export class SignatureRejected extends HttpApiError.Problem<SignatureRejected>()(
  "SignatureRejected",
  {
    type: "urn:tmdb-yearly:problem:signature-rejected",
    status: 401,
    title: "Webhook signature rejected"
  },
  { reason: WebhookVerificationReason }
) {}

/** 413: the body is larger than `max_bytes`. It was neither hashed nor parsed. */
export class PayloadTooLarge extends HttpApiError.Problem<PayloadTooLarge>()(
  "PayloadTooLarge",
  {
    type: "urn:tmdb-yearly:problem:payload-too-large",
    status: 413,
    title: "Webhook body too large"
  },
  { max_bytes: Schema.Int }
) {}

/** 415: the request's `Content-Type` is not `application/json`. */
export class UnsupportedMediaType extends HttpApiError.Problem<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  {
    type: "urn:tmdb-yearly:problem:unsupported-media-type",
    status: 415,
    title: "Unsupported content type"
  },
  { content_type: Schema.NullOr(Schema.String) }
) {}

/** 404: nothing is stored yet for the request, for example before the first delivery. */
export class RatingsNotFound extends HttpApiError.Problem<RatingsNotFound>()("RatingsNotFound", {
  type: "urn:tmdb-yearly:problem:not-found",
  status: 404,
  title: "Not found"
}) {}

/**
 * 401 from `POST /runs`: `ADMIN_TOKEN` is set, and the request has no `Authorization: Bearer` token or a
 * different one. The response carries `WWW-Authenticate: Bearer`.
 */
export class AdminTokenRejected extends HttpApiError.Problem<AdminTokenRejected>()("AdminTokenRejected", {
  type: "urn:tmdb-yearly:problem:admin-token-rejected",
  status: 401,
  title: "Admin token missing or wrong"
}) {}

/**
 * 403 from `POST /runs`: the request comes from a web page of another origin. Browsers send such a POST without
 * asking first, so without this check any page open in a browser on this machine could start runs.
 */
export class CrossOriginRejected extends HttpApiError.Problem<CrossOriginRejected>()("CrossOriginRejected", {
  type: "urn:tmdb-yearly:problem:cross-origin-rejected",
  status: 403,
  title: "Cross-origin request rejected"
}) {}

/** 409 from `POST /runs`: a run is in progress. `run_id` is that run's id, or null in the instant before it has one. */
export class RunAlreadyInProgress extends HttpApiError.Problem<RunAlreadyInProgress>()(
  "RunAlreadyInProgress",
  {
    type: "urn:tmdb-yearly:problem:run-in-progress",
    status: 409,
    title: "A run is in progress"
  },
  { run_id: Schema.NullOr(Schema.String) }
) {}

/**
 * 503 from `POST /runs`: the scheduler is not running, because the service is still starting or is shutting
 * down. The response carries `Retry-After` in seconds.
 */
export class SchedulerUnavailable extends HttpApiError.Problem<SchedulerUnavailable>()("SchedulerUnavailable", {
  type: "urn:tmdb-yearly:problem:scheduler-unavailable",
  status: 503,
  title: "Scheduler unavailable"
}) {}

/**
 * 404 for a request that matches no route, whatever its method. `detail` names the method and the path. No
 * endpoint declares it, because the server sends it before any endpoint is chosen.
 */
export class RouteNotFound extends HttpApiError.Problem<RouteNotFound>()(
  "RouteNotFound",
  {
    type: "urn:tmdb-yearly:problem:route-not-found",
    status: 404,
    title: "Route not found"
  },
  {
    method: Schema.String,
    path: Schema.String
  }
) {}

/**
 * 503: the database cannot be reached or is not migrated. The response carries `Retry-After` in seconds, and
 * the request can be sent again unchanged.
 */
export class DatabaseUnavailable extends HttpApiError.Problem<DatabaseUnavailable>()("DatabaseUnavailable", {
  type: "urn:tmdb-yearly:problem:database-unavailable",
  status: 503,
  title: "Database unavailable"
}) {}

// ---------------------------------------------------------------------------------------------------------
// Groups and the API
// ---------------------------------------------------------------------------------------------------------

/** `GET /yearly-ratings` and `GET /yearly-ratings/{year}`: the tables the webhook stored. */
export class RatingsGroup extends HttpApiGroup.make("ratings")
  .add(
    HttpApiEndpoint.get("latest", "/yearly-ratings", {
      success: LatestRatings,
      error: [RatingsNotFound, DatabaseUnavailable]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "The latest stored table",
        description:
          "Returns the most recently received delivery: its id, the time it was received and its rows in the webhook's wire form. 404 until the first delivery is stored."
      })
    )
  )
  .add(
    HttpApiEndpoint.get("year", "/yearly-ratings/:year", {
      params: { year: YearPathParameter },
      success: YearHistoryResponse,
      error: [RatingsNotFound, DatabaseUnavailable]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "The history of one year",
        description:
          "Returns the year's row from every stored delivery that has it, oldest first. 404 when no delivery has that year."
      })
    )
  ) {}

/** `GET /runs`: the job's recent run reports. `POST /runs`: start a run at once. */
export class RunsGroup extends HttpApiGroup.make("runs")
  .add(
    HttpApiEndpoint.get("recent", "/runs", {
      query: {
        limit: Schema.optional(RunsLimitParameter)
      },
      success: Schema.Array(RunReportWire),
      error: DatabaseUnavailable
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Recent runs of the job",
        description: `Returns the most recent run reports, newest first: ${DEFAULT_RUNS_LIMIT} or \`limit\` of them (1 to ${MAX_RUNS_LIMIT}). A run in progress has outcome \`running\`.`
      })
    )
  )
  .add(
    HttpApiEndpoint.post("start", "/runs", {
      headers: {
        authorization: Schema.optional(Schema.String),
        origin: Schema.optional(Schema.String),
        host: Schema.optional(Schema.String)
      },
      success: RunAccepted,
      error: [AdminTokenRejected, CrossOriginRejected, RunAlreadyInProgress, SchedulerUnavailable, DatabaseUnavailable]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Start a run now",
        description: [
          "Starts a run of the job at once and returns 202 with its `run_id` without waiting for it to finish. Runs never overlap, and the next scheduled run comes one interval after this run finishes.",
          "When the service has an `ADMIN_TOKEN`, the request needs `Authorization: Bearer <ADMIN_TOKEN>`.",
          "A request with an `Origin` header of another origin, as a browser sends from another web page, is rejected.",
          "Statuses: 202 started; 401 missing or wrong token, with `WWW-Authenticate: Bearer`; 403 another origin; 409 a run is in progress, naming its `run_id`; 503 the scheduler is not running yet or any more, or the database is unavailable, with `Retry-After`."
        ].join("\n\n")
      })
    )
  ) {}

/** `GET /health/live` and `GET /health/ready`. */
export class HealthGroup extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("live", "/health/live", { success: HealthStatus }).annotateMerge(
      OpenApi.annotations({ summary: "Liveness", description: "200 while the process serves HTTP." })
    )
  )
  .add(
    HttpApiEndpoint.get("ready", "/health/ready", { success: HealthStatus, error: DatabaseUnavailable }).annotateMerge(
      OpenApi.annotations({
        summary: "Readiness",
        description: "200 when the database is reachable and every migration is applied, 503 otherwise."
      })
    )
  ) {}

/**
 * `POST /webhooks/yearly-ratings`: the receiver. The body is the bare yearly array, signed per Standard
 * Webhooks. The declared payload and headers document the contract, but the server reads the raw body itself.
 * It checks the content type, then the 64 KiB limit, then the signature on the raw bytes, and only then parses
 * the JSON.
 */
export class WebhooksGroup extends HttpApiGroup.make("webhooks").add(
  HttpApiEndpoint.post("receive", WEBHOOK_PATH, {
    headers: {
      "webhook-id": Schema.optional(Schema.String),
      "webhook-timestamp": Schema.optional(Schema.String),
      "webhook-signature": Schema.optional(Schema.String)
    },
    payload: YearlyRatingsPayload,
    success: [DeliveryStored, DeliveryAlreadyStored],
    error: [InvalidPayload, SignatureRejected, PayloadTooLarge, UnsupportedMediaType, DatabaseUnavailable]
  }).annotateMerge(
    OpenApi.annotations({
      summary: "Receive a signed yearly table",
      description: [
        "Stores one delivery: one row per year, in one transaction.",
        "`webhook-id` is the delivery id and the idempotency key, `webhook-timestamp` is in Unix seconds, and `webhook-signature` is `v1,<base64 HMAC-SHA256>` over `id.timestamp.body`, computed on the raw bytes with the `whsec_` secret.",
        "Statuses: 201 stored; 200 the same `webhook-id` again, nothing written; 400 invalid JSON or schema error, naming the path and value; 401 missing or bad signature or a timestamp more than 5 minutes away; 413 body over 64 KiB; 415 content type other than `application/json`; 503 database unavailable, with `Retry-After`."
      ].join("\n\n")
    })
  )
) {}

/**
 * Middleware that turns a request whose parameters fail decoding into an `InvalidParameter` problem, and a
 * response that fails encoding into a 500 problem. The server provides its implementation, and clients need
 * none.
 */
export class RequestValidation extends HttpApiMiddleware.Service<RequestValidation>()(
  "@tmdb-yearly/core/RequestValidation",
  { error: [InvalidParameter, HttpApiError.InternalServerErrorProblem] }
) {}

/** The whole HTTP API of the service, with RFC 9457 problems for requests that fail decoding. */
export class RatingsApi extends HttpApi.make("tmdb-yearly")
  .add(RatingsGroup)
  .add(RunsGroup)
  .add(HealthGroup)
  .add(WebhooksGroup)
  .middleware(RequestValidation)
  .annotateMerge(
    OpenApi.annotations({
      title: "tmdb-yearly",
      version: "0.1.0",
      description:
        "Yearly averages of TheMovieDB's top-rated movies: the tables the webhook stored, the job's runs, and the webhook receiver itself. This product uses the TMDB API but is not endorsed or certified by TMDB."
    })
  ) {}
