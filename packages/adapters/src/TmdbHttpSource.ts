import { MAX_TMDB_PAGE, PageReadError, TopRatedSource } from "@tmdb-yearly/core"
import { Duration, Effect, Layer, Metric, Redacted, Result } from "effect"
import { HttpClient, HttpClientRequest, UrlParams } from "effect/http"
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_RETRY_AFTER,
  DEFAULT_REQUEST_TIMEOUT,
  DEFAULT_RETRY_BASE_DELAY,
  exchange,
  isRetryableStatus,
  retryTransient,
  transientStatus
} from "./internal/httpRetry.ts"
import type { CompleteResponse, TransientFailure } from "./internal/httpRetry.ts"
import { makeRequestLimiter } from "./internal/RequestLimiter.ts"
import { decodeTopRatedBody, describeErrorBody, readTmdbStatusCode } from "./internal/tmdbResponse.ts"

/**
 * A TMDB credential: a v3 API key, sent as the `api_key` query parameter, or a v4 API read access token, sent
 * as `Authorization: Bearer`. A request carries exactly one of them.
 */
export type TmdbCredential =
  | { readonly _tag: "ApiKey"; readonly key: Redacted.Redacted<string> }
  | { readonly _tag: "AccessToken"; readonly token: Redacted.Redacted<string> }

/** Settings of the TMDB HTTP source. Durations accept any `Duration.Input`, such as `"300 millis"`. */
export interface TmdbHttpOptions {
  /** API root without a trailing slash, such as `https://api.themoviedb.org/3`. */
  readonly baseUrl: string
  readonly credential: TmdbCredential
  /** `language` query parameter, sent on every request, such as `en-US`. */
  readonly language: string
  /** `region` query parameter (ISO 3166-1 code), sent on every request when set. */
  readonly region?: string | undefined
  /** Time limit of one attempt, from sending the request to reading the whole body. Default 10 seconds. */
  readonly requestTimeout?: Duration.Input
  /** Attempts per page in all, the first one included. Default 5. */
  readonly maxAttempts?: number
  /** Maximum number of requests that may start in any one-second window, across all pages. Default 20. */
  readonly maxRequestsPerSecond?: number
  /** Base of the exponential backoff with full jitter. Default 500 milliseconds. */
  readonly retryBaseDelay?: Duration.Input
  /** Maximum wait that a `Retry-After` header can request. A longer one is cut to this. Default 60 seconds. */
  readonly maxRetryAfter?: Duration.Input
}

const DEFAULT_MAX_REQUESTS_PER_SECOND = 20

const requestsTotal = Metric.counter("tmdb_yearly_tmdb_requests_total", {
  description: "Requests sent to TMDB, by HTTP status, or by error or timeout when no status came back",
  incremental: true
})
const retriesTotal = Metric.counter("tmdb_yearly_tmdb_retries_total", {
  description: "TMDB requests retried after a transient failure",
  incremental: true
})
const pagesReadTotal = Metric.counter("tmdb_yearly_tmdb_pages_read_total", {
  description: "Top-rated pages read and decoded from TMDB",
  incremental: true
})

const countRequest = (status: number | "error" | "timeout") =>
  Metric.update(Metric.withAttributes(requestsTotal, { status: String(status) }), 1)

const requireWholeNumber = (name: string, value: number, minimum: number): number => {
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`TmdbHttpOptions.${name} must be an integer of at least ${minimum}, got ${value}`)
  }
  return value
}

const credentialName = (credential: TmdbCredential): string =>
  credential._tag === "ApiKey" ? "API key" : "access token"

const unauthorizedAdvice = (credential: TmdbCredential): string =>
  credential._tag === "ApiKey"
    ? "Check TMDB_API_KEY (a v3 API key from the TMDB account's API settings), or set TMDB_ACCESS_TOKEN instead."
    : "Check TMDB_ACCESS_TOKEN: it must be a v4 API read access token from the TMDB account's API settings, not a v3 API key."

/**
 * Builds the TMDB HTTP source. Throws a `RangeError` (a defect of the layer) when a count in `options` is not
 * a positive integer.
 */
const make = (options: TmdbHttpOptions) =>
  Effect.gen(function* () {
    const maxAttempts = requireWholeNumber("maxAttempts", options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1)
    const maxRequestsPerSecond = requireWholeNumber(
      "maxRequestsPerSecond",
      options.maxRequestsPerSecond ?? DEFAULT_MAX_REQUESTS_PER_SECOND,
      1
    )
    const requestTimeout = Duration.fromInputUnsafe(options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT)
    const retryBaseDelay = Duration.fromInputUnsafe(options.retryBaseDelay ?? DEFAULT_RETRY_BASE_DELAY)
    const maxRetryAfter = Duration.fromInputUnsafe(options.maxRetryAfter ?? DEFAULT_MAX_RETRY_AFTER)
    const credential = options.credential
    const secret = credential._tag === "ApiKey" ? Redacted.value(credential.key) : Redacted.value(credential.token)
    const pageUrl = `${options.baseUrl.replace(/\/+$/, "")}/movie/top_rated`

    const client = yield* HttpClient.HttpClient
    // Registered at zero, so that a metrics endpoint lists them before the first request.
    yield* Effect.all(
      [
        Metric.value(Metric.withAttributes(requestsTotal, { status: "200" })),
        Metric.value(retriesTotal),
        Metric.value(pagesReadTotal)
      ],
      { discard: true }
    )
    const waitForRequestSlot = yield* makeRequestLimiter(maxRequestsPerSecond, Duration.seconds(1))
    // The key is a `Redacted` URL parameter, so that span attributes show it as redacted. Error messages of
    // the HTTP client print `request.url`, which contains no query string. The extra redacted name also covers
    // any URL that the client prints from the full query.
    const redactedParamNames = [...(yield* UrlParams.CurrentRedactedNames), "api_key"]

    // A server can echo a request back in a body, so text from the server or the HTTP client is cleared of
    // the secret before it goes into an error or a log line.
    const withoutSecret = (text: string): string => (secret === "" ? text : text.split(secret).join("<redacted>"))

    const buildRequest = (page: number) => {
      let request = HttpClientRequest.get(pageUrl).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.setUrlParam("page", String(page)),
        HttpClientRequest.setUrlParam("language", options.language)
      )
      if (options.region !== undefined) {
        request = HttpClientRequest.setUrlParam(request, "region", options.region)
      }
      return credential._tag === "ApiKey"
        ? HttpClientRequest.setUrlParam(request, "api_key", credential.key)
        : HttpClientRequest.bearerToken(request, credential.token)
    }

    const fail = (page: number, reason: PageReadError["reason"], status: number | null, detail: string) =>
      Effect.fail(new PageReadError({ page, reason, status, detail }))

    const transient = (failure: TransientFailure) => Result.fail(failure)

    // Classifies a complete response. Fails only with errors that no retry can mend.
    const classifyResponse = (page: number, response: CompleteResponse) =>
      Effect.gen(function* () {
        const { status, headers, body } = response
        const contentType = headers["content-type"]
        if (status >= 200 && status < 300) {
          const decoded = decodeTopRatedBody(page, contentType, body)
          if (decoded._tag === "Failure") return yield* fail(page, "decode", status, withoutSecret(decoded.failure))
          return Result.succeed(decoded.success)
        }
        const bodyDescription = withoutSecret(describeErrorBody(contentType, body))
        if (status === 401) {
          const rejected = `TMDB rejected the ${credentialName(credential)} (HTTP 401, ${bodyDescription})`
          return yield* fail(page, "unauthorized", status, `${rejected}. ${unauthorizedAdvice(credential)}`)
        }
        if (status === 400 && readTmdbStatusCode(body) === 22) {
          return yield* fail(
            page,
            "no-such-page",
            status,
            `TMDB does not serve this page (HTTP 400, ${bodyDescription})`
          )
        }
        const detail = `HTTP ${status}, ${bodyDescription}`
        if (!isRetryableStatus(status)) return yield* fail(page, "http-status", status, detail)
        return transient(yield* transientStatus(response, detail, maxRetryAfter))
      })

    // Sends one request once the limiter allows it, and classifies the outcome.
    const attemptPage = (page: number, request: HttpClientRequest.HttpClientRequest) =>
      Effect.gen(function* () {
        yield* waitForRequestSlot
        const outcome = yield* exchange(client, request, requestTimeout, countRequest).pipe(
          Effect.provideService(UrlParams.CurrentRedactedNames, redactedParamNames)
        )
        switch (outcome._tag) {
          case "Unsendable":
            return yield* fail(
              page,
              "transport",
              null,
              `the request could not be sent: ${withoutSecret(outcome.message)}`
            )
          case "Transient":
            return transient({ ...outcome.failure, detail: withoutSecret(outcome.failure.detail) })
          case "Response":
            return yield* classifyResponse(page, outcome.response)
        }
      })

    const readPage = Effect.fn("TmdbHttpSource.readPage")(function* (page: number) {
      yield* Effect.annotateCurrentSpan("page", page)
      if (!Number.isSafeInteger(page)) {
        return yield* Effect.die(new RangeError(`A page number must be an integer, got ${page}`))
      }
      if (page < 1 || page > MAX_TMDB_PAGE) {
        return yield* fail(page, "no-such-page", null, `TMDB serves pages 1 to ${MAX_TMDB_PAGE}, so none was requested`)
      }
      const request = buildRequest(page)
      const topRatedPage = yield* retryTransient({
        attempt: attemptPage(page, request),
        maxAttempts,
        baseDelay: retryBaseDelay,
        retries: retriesTotal,
        logMessage: "Retrying a TMDB page request",
        logFields: { page },
        giveUp: (failure, detail) => fail(page, failure.reason, failure.status, detail)
      })
      yield* Metric.update(pagesReadTotal, 1)
      return topRatedPage
    })

    return TopRatedSource.of({ readPage })
  })

/**
 * The `TopRatedSource` that reads `GET {baseUrl}/movie/top_rated` over HTTP.
 *
 * Each attempt has a time limit. Network errors, timeouts, 408, 429 and 5xx are retried up to
 * `maxAttempts` in all, after the wait a `Retry-After` header requests (seconds or HTTP-date, capped), or else
 * after an exponential backoff with full jitter (capped at 30 seconds). A limiter shared by all pages of the
 * source keeps to `maxRequestsPerSecond`. Pages outside 1 to 500 are never requested.
 *
 * Fails with `PageReadError`, with these reasons:
 * - `unauthorized` at once on 401. The message names the rejected credential kind and what to check.
 * - `no-such-page` on 400 with `status_code` 22, and without a request for pages outside 1 to 500.
 * - `decode` when a 2xx body is not the requested top-rated page. The message names the failing path.
 * - `http-status`, `transport` or `timeout` once the attempts are used up, or at once for another 4xx.
 *
 * A page number that is not an integer is a defect. The credential never appears in log lines, error
 * messages or span attributes, even when a server echoes it back in a body.
 */
export const TmdbHttpSource: {
  /**
   * Builds the source from explicit options. The host reads them from the environment and uses the recorded
   * snapshot instead when no credential is set, so this layer always has one.
   */
  readonly layer: (options: TmdbHttpOptions) => Layer.Layer<TopRatedSource, never, HttpClient.HttpClient>
} = {
  layer: (options) => Layer.effect(TopRatedSource, make(options))
}
