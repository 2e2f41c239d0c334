import { Schema, SchemaGetter } from "effect"
import { VoteAverage } from "./TopRatedPage.ts"

/** One row of the yearly table: a release year, the rounded mean `vote_average` and the number of movies. */
export interface YearlyRating {
  readonly year: number
  readonly voteAverage: number
  readonly quantity: number
}

/** A four-digit release year. */
export const Year = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1000, maximum: 9999 })))

/**
 * Highest `quantity` accepted: PostgreSQL's `integer` maximum, so that every decoded row can be stored. TMDB
 * serves at most 10,000 movies per list, far below it.
 */
export const MAX_QUANTITY = 2_147_483_647

/** A number of movies: a positive integer up to `MAX_QUANTITY`. */
export const Quantity = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MAX_QUANTITY })))

/**
 * A wire value that is a string matching `pattern` or a JSON number. It decodes to a number checked by
 * `target`, and always encodes to a string. JSON numbers are checked by `target` on the wire side as well, so
 * that a failure names the wire key (`vote_average`, not `voteAverage`).
 */
const numberOnWire = <S extends Schema.Top & { readonly Type: number; readonly Encoded: number }>(
  pattern: RegExp,
  expected: string,
  target: S
) =>
  Schema.Union([Schema.String.pipe(Schema.check(Schema.isPattern(pattern, { expected }))), target]).pipe(
    Schema.decodeTo(target, {
      decode: SchemaGetter.transform((wire: string | number) => Number(wire)),
      // NOTE: String() writes the shortest form, so an average of 7 at one decimal goes out as "7", not "7.0".
      // The row does not carry the number of decimals it was rounded to.
      encode: SchemaGetter.transform((value: number) => String(value))
    })
  )

/**
 * One element of the webhook body. Every value is a string on the wire (`{"year": "1990", "vote_average": "8.1",
 * "quantity": "10"}`), JSON numbers are accepted when decoding, and unknown fields are ignored.
 */
export const YearlyRatingWire = Schema.Struct({
  year: numberOnWire(/^[0-9]{4}$/, "a four-digit year", Year),
  voteAverage: numberOnWire(
    /^(10(\.0{1,3})?|[0-9](\.[0-9]{1,3})?)$/,
    "a decimal from 0 to 10 with at most 3 decimals",
    VoteAverage
  ),
  quantity: numberOnWire(/^[1-9][0-9]*$/, "a positive integer", Quantity)
}).pipe(Schema.encodeKeys({ voteAverage: "vote_average" }))

/** Reports each repeated year at the `year` of its second and later rows. */
const findRepeatedYears = (rows: ReadonlyArray<YearlyRating>): Array<Schema.FilterIssue> => {
  const seen = new Set<number>()
  const issues: Array<Schema.FilterIssue> = []
  rows.forEach((row, index) => {
    if (seen.has(row.year)) issues.push({ path: [index, "year"], issue: `Year ${row.year} appears more than once` })
    seen.add(row.year)
  })
  return issues
}

/** The webhook body: the bare array of yearly rows, each year at most once. */
export const YearlyRatingsPayload = Schema.Array(YearlyRatingWire).pipe(
  Schema.check(Schema.makeFilter(findRepeatedYears, { expected: "each year at most once" }))
)
export type YearlyRatingsPayload = typeof YearlyRatingsPayload.Type
