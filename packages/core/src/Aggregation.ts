import type { TopRatedPage } from "./TopRatedPage.ts"
import type { YearlyRating } from "./YearlyRating.ts"

/** The yearly table computed from a run's pages, with the counts that the run report records. */
export interface YearlyTable {
  /** One row per release year, sorted by year ascending. */
  readonly rows: ReadonlyArray<YearlyRating>
  /** Distinct movies with a valid release date: the sum of every row's `quantity`. */
  readonly movies: number
  /** Later copies of a movie id already seen earlier in page order. */
  readonly duplicates: number
  /** Distinct movies without a valid `YYYY-MM-DD` release date. */
  readonly undated: number
  /** Number of rows. */
  readonly years: number
}

/** Default number of decimals of the published `vote_average`. */
export const DEFAULT_VOTE_AVERAGE_DECIMALS = 1

/** Highest number of decimals for the published average: the inputs themselves have at most three. */
export const MAX_VOTE_AVERAGE_DECIMALS = 3

const releaseDatePattern = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/

const daysInMonth = (year: number, month: number): number => {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
    return leap ? 29 : 28
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * Returns the year of a `YYYY-MM-DD` release date that names a real day of the proleptic Gregorian calendar,
 * or `undefined` for anything else (`""`, `null`, a missing value, `2001-02-29`, `2001-13-01`). Years before
 * 1000 are rejected as well, because the webhook's `year` is a four-digit number from 1000 to 9999.
 */
export const releaseYear = (releaseDate: string | null | undefined): number | undefined => {
  if (releaseDate === null || releaseDate === undefined) return undefined
  const match = releaseDatePattern.exec(releaseDate)
  if (match === null) return undefined
  const year = Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  return year
}

/**
 * Rounds `numerator / denominator` half up to an integer. Both are non-negative safe integers and the
 * denominator is positive, so the arithmetic is exact.
 */
const divideRoundHalfUp = (numerator: number, denominator: number): number => {
  const quotient = Math.floor(numerator / denominator)
  const remainder = numerator - quotient * denominator
  return remainder * 2 >= denominator ? quotient + 1 : quotient
}

interface YearSum {
  thousandths: number
  count: number
}

/**
 * Aggregates top-rated pages into the yearly table.
 *
 * Pages are processed in ascending `page` order whatever their order in the array, so the result does not
 * depend on the order in which pages arrived. The first copy of a movie id in that order is kept, and later
 * copies are counted in `duplicates`. A movie whose `release_date` is not a valid `YYYY-MM-DD` date is counted
 * in `undated` and left out of every year.
 *
 * Each year's average is the exact mean of its `vote_average` values, summed as integer thousandths and
 * rounded half up to `decimals` places (default 1). For example 6.0 and 6.7 give 6.4, where a floating-point
 * `toFixed(1)` gives 6.3.
 *
 * Throws a `RangeError` when `decimals` is not an integer from 0 to 3. That is a programming error: the
 * configuration layer validates the setting before it reaches this function.
 */
export const aggregate = (
  pages: ReadonlyArray<TopRatedPage>,
  options?: { readonly decimals?: number }
): YearlyTable => {
  const decimals = options?.decimals ?? DEFAULT_VOTE_AVERAGE_DECIMALS
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_VOTE_AVERAGE_DECIMALS) {
    throw new RangeError(
      `Invalid number of vote_average decimals ${decimals}: expected an integer from 0 to ${MAX_VOTE_AVERAGE_DECIMALS}`
    )
  }

  // Array.prototype.sort is stable, so pages that share a number keep their array order.
  const pagesInOrder = [...pages].sort((left, right) => left.page - right.page)
  const seenIds = new Set<number>()
  const sums = new Map<number, YearSum>()
  let duplicates = 0
  let undated = 0

  for (const page of pagesInOrder) {
    for (const movie of page.results) {
      if (seenIds.has(movie.id)) {
        duplicates++
        continue
      }
      seenIds.add(movie.id)

      const year = releaseYear(movie.release_date)
      if (year === undefined) {
        undated++
        continue
      }
      // The page schema admits at most three decimals, so this product is an integer up to float error.
      const thousandths = Math.round(movie.vote_average * 1000)
      const sum = sums.get(year)
      if (sum === undefined) {
        sums.set(year, { thousandths, count: 1 })
      } else {
        sum.thousandths += thousandths
        sum.count++
      }
    }
  }

  // One unit of the rounded result is 10^(3 - decimals) thousandths.
  const thousandthsPerUnit = 10 ** (MAX_VOTE_AVERAGE_DECIMALS - decimals)
  const unitsPerPoint = 10 ** decimals
  const rows: Array<YearlyRating> = [...sums.entries()]
    .sort(([left], [right]) => left - right)
    .map(([year, sum]) => ({
      year,
      // Dividing an integer by a power of ten yields the double nearest to that decimal, so String() prints it.
      voteAverage: divideRoundHalfUp(sum.thousandths, sum.count * thousandthsPerUnit) / unitsPerPoint,
      quantity: sum.count
    }))

  const movies = rows.reduce((total, row) => total + row.quantity, 0)
  return { rows, movies, duplicates, undated, years: rows.length }
}
