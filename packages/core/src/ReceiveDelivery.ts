import { DateTime, Effect, Schema, SchemaIssue } from "effect"
import type { Redacted } from "effect"
import { RatingsRepository } from "./RatingsRepository.ts"
import type { StorageError } from "./StorageError.ts"
import { verifyWebhook } from "./WebhookSignature.ts"
import type { InvalidWebhookSecret, WebhookVerificationError } from "./WebhookSignature.ts"
import { YearlyRatingsPayload } from "./YearlyRating.ts"

/** The outcome of one received delivery: `stored` is false when its id was already stored. */
export interface ReceiveResult {
  readonly deliveryId: string
  readonly stored: boolean
  /** Rows of the delivery as stored, including when it had been stored before. */
  readonly rows: number
}

/**
 * A webhook body that is not valid JSON or does not match the yearly ratings schema. `path` locates the
 * failing value (`[0].vote_average`, or `""` for the whole body). `value` is that value as JSON text,
 * `(missing)` for a missing field, or an excerpt of a body that is not JSON. `detail` is the expected form.
 */
export class PayloadRejected extends Schema.TaggedError<PayloadRejected>()("PayloadRejected", {
  path: Schema.String,
  value: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    const where = this.path === "" ? "the body" : this.path
    return `Invalid webhook body at ${where}: expected ${this.detail}, got ${this.value}`
  }
}

/**
 * Longest `webhook-id` accepted, in characters. The id is the stored delivery's primary key, and a bounded
 * key keeps it well inside PostgreSQL's index row limit. The ids this service sends are 40 characters.
 */
export const MAX_DELIVERY_ID_LENGTH = 255

/** Longest `value` text kept in a rejection, in characters. */
const MAX_VALUE_LENGTH = 80

const excerpt = (text: string): string =>
  text.length <= MAX_VALUE_LENGTH ? text : `${text.slice(0, MAX_VALUE_LENGTH - 1)}…`

const MISSING_VALUE = "(missing)"

const jsonText = (value: unknown): string => (value === undefined ? MISSING_VALUE : excerpt(JSON.stringify(value)))

type PathSegment = string | number

/** Formats a path as in JavaScript, without the leading dot: `[0].vote_average`. */
const formatPath = (path: ReadonlyArray<PathSegment>): string => {
  let text = ""
  for (const segment of path) {
    if (typeof segment === "number") {
      text += `[${segment}]`
    } else {
      text += text === "" ? segment : `.${segment}`
    }
  }
  return text
}

const valueAt = (body: unknown, path: ReadonlyArray<PathSegment>): unknown => {
  let value = body
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined
    value = (value as Record<PathSegment, unknown>)[segment]
  }
  return value
}

const standardFormatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Finds the index of the first earlier row whose `year` has the same number as row `index`, if any. */
const earlierRowWithYear = (body: ReadonlyArray<unknown>, index: number): number | undefined => {
  const year = Number(valueAt(body[index], ["year"]))
  const earlier = body.slice(0, index).findIndex((element) => Number(valueAt(element, ["year"])) === year)
  return earlier === -1 ? undefined : earlier
}

/** Converts the first schema issue into a rejection that names the path and the value the sender wrote. */
const rejectionOf = (body: unknown, issue: SchemaIssue.Issue): PayloadRejected => {
  const first = standardFormatter(issue).issues[0]
  const path = (first?.path ?? []).map((segment): PathSegment => {
    const key = typeof segment === "object" ? segment.key : segment
    return typeof key === "number" ? key : String(key)
  })
  const message = first?.message ?? "Expected a valid yearly ratings array"
  const rejection = {
    path: formatPath(path),
    value: jsonText(valueAt(body, path)),
    detail: message === "Missing key" ? "a value" : message.replace(/^Expected /, "")
  }

  // Rows decode in order and the first issue is reported, so a `year` rejected after the rows before it
  // decoded, with the same number as one of them, is a repeated year.
  const [index, key] = path
  if (Array.isArray(body) && path.length === 2 && typeof index === "number" && key === "year") {
    const earlier = earlierRowWithYear(body, index)
    if (earlier !== undefined) {
      const year = Number(valueAt(body[index], ["year"]))
      return new PayloadRejected({
        ...rejection,
        detail: `each year at most once, but ${year} is also at ${formatPath([earlier, "year"])}`
      })
    }
  }
  return new PayloadRejected(rejection)
}

const parseJson = (body: Uint8Array): Effect.Effect<unknown, PayloadRejected> =>
  Effect.suspend(() => {
    let text: string
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body)
    } catch {
      return Effect.fail(
        new PayloadRejected({ path: "", value: `${body.length} bytes`, detail: "JSON text encoded as UTF-8" })
      )
    }
    try {
      return Effect.succeed(JSON.parse(text) as unknown)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      return Effect.fail(new PayloadRejected({ path: "", value: excerpt(text), detail: `valid JSON (${reason})` }))
    }
  })

/**
 * Receives one webhook delivery. It verifies the Standard Webhooks signature on the raw bytes first, then
 * parses the body as JSON, decodes it as `YearlyRatingsPayload` (a year that appears twice is rejected), and
 * stores it under its `webhook-id` with the receive time from `Clock`. A delivery id that is already stored
 * returns `stored: false` and writes nothing.
 *
 * Fails with `InvalidWebhookSecret` or `WebhookVerificationError` before the body is parsed, with
 * `PayloadRejected` for a `webhook-id` longer than `MAX_DELIVERY_ID_LENGTH` or a body that is not valid JSON
 * or not a valid table, and with `StorageError` when the
 * repository fails.
 */
export const receiveDelivery = Effect.fn("receiveDelivery")(function* (input: {
  readonly secret: Redacted.Redacted<string>
  readonly headers: { readonly [name: string]: string | undefined }
  readonly body: Uint8Array
}): Effect.fn.Return<
  ReceiveResult,
  WebhookVerificationError | InvalidWebhookSecret | PayloadRejected | StorageError,
  RatingsRepository
> {
  const repository = yield* RatingsRepository
  const { id } = yield* verifyWebhook({ secret: input.secret, headers: input.headers, body: input.body })
  if (id.length > MAX_DELIVERY_ID_LENGTH) {
    return yield* new PayloadRejected({
      path: "webhook-id",
      value: jsonText(id),
      detail: `a delivery id of at most ${MAX_DELIVERY_ID_LENGTH} characters`
    })
  }
  const json = yield* parseJson(input.body)
  const rows = yield* Schema.decodeUnknownEffect(YearlyRatingsPayload)(json).pipe(
    Effect.catchTag("SchemaError", (error) => Effect.fail(rejectionOf(json, error.issue)))
  )
  const receivedAt = yield* DateTime.now
  const result = yield* repository.store({ id, rows }, receivedAt)
  return { deliveryId: id, stored: result.stored, rows: result.rows }
})
