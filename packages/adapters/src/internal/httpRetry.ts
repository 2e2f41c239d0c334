import { Clock, Duration, Effect, Metric, Option, Result } from "effect"
import type { Headers, HttpClient, HttpClientRequest } from "effect/http"
import { fullJitterDelay, parseRetryAfter } from "./retryDelay.ts"

/** Highest delay of the exponential backoff between two attempts. */
const MAX_BACKOFF_DELAY = Duration.seconds(30)

/** Default time limit of one attempt, from sending the request to reading the whole body. */
export const DEFAULT_REQUEST_TIMEOUT = Duration.seconds(10)
/** Default number of attempts per request in all, the first one included. */
export const DEFAULT_MAX_ATTEMPTS = 5
/** Default base of the exponential backoff with full jitter. */
export const DEFAULT_RETRY_BASE_DELAY = Duration.millis(500)
/** Default maximum wait that a `Retry-After` header can request. */
export const DEFAULT_MAX_RETRY_AFTER = Duration.seconds(60)

/** Statuses worth another attempt: 408 (request timeout), 429 (too many requests) and every 5xx. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 429 || (status >= 500 && status <= 599)

/** One attempt that failed in a way worth another try: a network error, a timeout, 408, 429 or 5xx. */
export interface TransientFailure {
  readonly reason: "http-status" | "transport" | "timeout"
  readonly status: number | null
  readonly detail: string
  /** The wait that a `Retry-After` header requested, already capped. */
  readonly retryAfter: Duration.Duration | undefined
}

/** A response read to its end: the status, the headers and the whole body as text. */
export interface CompleteResponse {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: string
}

/**
 * The outcome of one exchange: a complete response of any status, a transient failure (a network error or
 * a timeout), or a request that could not be sent at all, such as one with an invalid URL.
 */
export type Exchange =
  | { readonly _tag: "Response"; readonly response: CompleteResponse }
  | { readonly _tag: "Transient"; readonly failure: TransientFailure }
  | { readonly _tag: "Unsendable"; readonly message: string }

/**
 * Sends one request and reads its whole body within `timeout`. A network error, including a body cut off
 * midway, and a timeout are transient failures. `count` is called once per exchange with the HTTP status, or
 * with `"error"` or `"timeout"` when no complete response came back.
 */
export const exchange = (
  client: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  timeout: Duration.Duration,
  count: (status: number | "error" | "timeout") => Effect.Effect<void>
): Effect.Effect<Exchange> =>
  Effect.gen(function* () {
    const result = yield* client.execute(request).pipe(
      Effect.mapError((error) =>
        error.reason._tag === "TransportError"
          ? ({ _tag: "Transient", detail: error.message } as const)
          : ({ _tag: "Unsendable", detail: error.message } as const)
      ),
      Effect.flatMap((response) =>
        response.text.pipe(
          // A body cut off after the status arrived is a network fault like any other, so it is retried.
          Effect.mapError(
            (error) => ({ _tag: "Transient", detail: `the response body could not be read: ${error.message}` }) as const
          ),
          Effect.map((body): CompleteResponse => ({ status: response.status, headers: response.headers, body }))
        )
      ),
      Effect.timeoutOption(timeout),
      Effect.result
    )
    if (Result.isFailure(result)) {
      yield* count("error")
      const error = result.failure
      if (error._tag === "Unsendable") return { _tag: "Unsendable", message: error.detail }
      return {
        _tag: "Transient",
        failure: { reason: "transport", status: null, detail: error.detail, retryAfter: undefined }
      }
    }
    if (Option.isNone(result.success)) {
      yield* count("timeout")
      const detail = `no complete response within ${Duration.format(timeout)}`
      return { _tag: "Transient", failure: { reason: "timeout", status: null, detail, retryAfter: undefined } }
    }
    yield* count(result.success.value.status)
    return { _tag: "Response", response: result.success.value }
  })

/** Classifies a retryable status as a transient failure, with the wait its `Retry-After` requests, capped. */
export const transientStatus = (
  response: CompleteResponse,
  detail: string,
  maxRetryAfter: Duration.Duration
): Effect.Effect<TransientFailure> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const requested = parseRetryAfter(response.headers["retry-after"], now)
    const retryAfter = requested === undefined ? undefined : Duration.min(requested, maxRetryAfter)
    return { reason: "http-status", status: response.status, detail, retryAfter }
  })

/**
 * Runs `attempt` until it succeeds, fails, or has returned a transient failure `maxAttempts` times in all.
 * Before each retry it waits for the failure's `Retry-After`, or else for an exponential backoff with full
 * jitter from `baseDelay` (capped at 30 seconds), logs one warning with `logFields`, `attempt`, `status`,
 * `delay_ms` and `error`, and adds one to `retries`. After the last attempt it fails through `giveUp`, whose
 * detail states how many attempts were made.
 */
export const retryTransient = <A, E, R>(options: {
  readonly attempt: Effect.Effect<Result.Result<A, TransientFailure>, E, R>
  readonly maxAttempts: number
  readonly baseDelay: Duration.Duration
  readonly retries: Metric.Counter<number>
  readonly logMessage: string
  readonly logFields: Record<string, unknown>
  readonly giveUp: (failure: TransientFailure, detail: string) => Effect.Effect<never, E>
}): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    for (let attempt = 1; ; attempt++) {
      const outcome = yield* options.attempt
      if (Result.isSuccess(outcome)) return outcome.success
      const failure = outcome.failure
      if (attempt >= options.maxAttempts) {
        const attempts = attempt === 1 ? "1 attempt" : `${attempt} attempts`
        return yield* options.giveUp(failure, `${failure.detail} (gave up after ${attempts})`)
      }
      const delay = failure.retryAfter ?? (yield* fullJitterDelay(attempt, options.baseDelay, MAX_BACKOFF_DELAY))
      yield* Effect.logWarning(options.logMessage).pipe(
        Effect.annotateLogs({
          ...options.logFields,
          attempt,
          status: failure.status ?? failure.reason,
          delay_ms: Duration.toMillis(delay),
          error: failure.detail
        })
      )
      yield* Metric.update(options.retries, 1)
      yield* Effect.sleep(delay)
    }
  })
