import { Schema } from "effect"

/**
 * Number of decimals TMDB uses for `vote_average`. Averages are computed from integer thousandths, so a value
 * with more decimals cannot be represented exactly and is rejected.
 */
export const VOTE_AVERAGE_SOURCE_DECIMALS = 3

// A value passes when it is exactly the double nearest to some k / 1000. Division is correctly rounded, so
// Math.round(value * 1000) / 1000 rebuilds such a value bit for bit. A tolerance would let tiny values like
// 1e-300 through, and String() prints those in exponent form, which the webhook's pattern rejects.
const hasAtMostThreeDecimals = (value: number): boolean => Math.round(value * 1000) / 1000 === value

/** A TMDB `vote_average`: a finite number from 0 to 10 with at most three decimals. */
export const VoteAverage = Schema.Number.pipe(
  Schema.check(
    Schema.isFinite(),
    Schema.isBetween({ minimum: 0, maximum: 10 }),
    Schema.makeFilter(hasAtMostThreeDecimals, { expected: "a number with at most 3 decimals" })
  )
)

/**
 * One movie of a top-rated page. Only the fields the aggregation needs are kept, and unknown fields are
 * ignored. `release_date` may be `""`, `null` or missing: such a movie is counted as undated.
 */
export const TmdbMovie = Schema.Struct({
  id: Schema.Int,
  title: Schema.optional(Schema.String),
  release_date: Schema.optional(Schema.NullOr(Schema.String)),
  vote_average: VoteAverage
})
export type TmdbMovie = typeof TmdbMovie.Type

/** The envelope of `GET /movie/top_rated`: `{ page, results, total_pages, total_results }`. */
export const TopRatedPage = Schema.Struct({
  page: Schema.Int,
  results: Schema.Array(TmdbMovie),
  total_pages: Schema.Int,
  total_results: Schema.Int
})
export type TopRatedPage = typeof TopRatedPage.Type

/** Highest page number TMDB serves for list endpoints. Above it, TMDB responds with HTTP 400 and `status_code` 22. */
export const MAX_TMDB_PAGE = 500
