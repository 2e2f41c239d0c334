import { TopRatedPage } from "@tmdb-yearly/core"
import { Result, Schema } from "effect"

const MAX_EXCERPT_LENGTH = 200

/** TMDB's JSON error body, such as `{"status_code":7,"status_message":"Invalid API key: ..."}`. */
const TmdbErrorBody = Schema.Struct({
  status_code: Schema.Number,
  status_message: Schema.optional(Schema.String)
})

const decodeErrorBody = Schema.decodeUnknownResult(TmdbErrorBody)
const decodePage = Schema.decodeUnknownResult(TopRatedPage)

const parseJson = (body: string): Result.Result<unknown, SyntaxError> => {
  try {
    return Result.succeed(JSON.parse(body))
  } catch (error) {
    return Result.fail(error as SyntaxError)
  }
}

/** Returns the start of a body on one line, whitespace collapsed, for error messages. */
const excerpt = (body: string): string => {
  const line = body.replace(/\s+/g, " ").trim()
  return line.length > MAX_EXCERPT_LENGTH ? `${line.slice(0, MAX_EXCERPT_LENGTH)}...` : line
}

/** Reads TMDB's `status_code` from a JSON error body. Returns `undefined` for any other body. */
export const readTmdbStatusCode = (body: string): number | undefined => {
  const json = parseJson(body)
  if (Result.isFailure(json)) return undefined
  const decoded = decodeErrorBody(json.success)
  return Result.isSuccess(decoded) ? decoded.success.status_code : undefined
}

/**
 * Describes an error body in one line: TMDB's `status_code` and `status_message` when it is TMDB's JSON,
 * otherwise the content type and the start of the body, so that an HTML page from a proxy shows up as such.
 */
export const describeErrorBody = (contentType: string | undefined, body: string): string => {
  const json = parseJson(body)
  if (Result.isSuccess(json)) {
    const decoded = decodeErrorBody(json.success)
    if (Result.isSuccess(decoded)) {
      const { status_code, status_message } = decoded.success
      return status_message === undefined
        ? `status_code ${status_code}`
        : `status_code ${status_code}: ${excerpt(status_message)}`
    }
  }
  if (body.trim() === "") return "empty body"
  return `${contentType ?? "no content type"} body: ${excerpt(body)}`
}

/**
 * Decodes a 2xx body as the envelope of page `page`. Fails with a one-line reason that names the failing path
 * when the body is not JSON, does not match `TopRatedPage`, or is the envelope of another page.
 */
export const decodeTopRatedBody = (
  page: number,
  contentType: string | undefined,
  body: string
): Result.Result<TopRatedPage, string> => {
  const json = parseJson(body)
  if (Result.isFailure(json)) {
    return Result.fail(`the response body is not JSON (${contentType ?? "no content type"}): ${excerpt(body)}`)
  }
  const decoded = decodePage(json.success)
  if (Result.isFailure(decoded)) {
    // The schema error spans lines ("Expected number\n  at ["results"][1]["id"]"), and a log line should not.
    const reason = decoded.failure.message.replace(/\s*\n\s*/g, " ")
    return Result.fail(`the response body is not a top-rated page: ${reason}`)
  }
  if (decoded.success.page !== page) {
    return Result.fail(`the response body is page ${decoded.success.page} of the list, not page ${page}`)
  }
  return Result.succeed(decoded.success)
}
