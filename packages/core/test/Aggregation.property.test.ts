import { assert, describe, it } from "@effect/vitest"
import { aggregate, MAX_QUANTITY, YearlyRatingsPayload } from "@tmdb-yearly/core"
import type { TmdbMovie, TopRatedPage, YearlyRating } from "@tmdb-yearly/core"
import { Arbitrary, Schema } from "effect"

const intBetween = (minimum: number, maximum: number): Arbitrary.Arbitrary<number> =>
  Arbitrary.schema(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum, maximum }))))

// Release dates: mostly dates in six years (so that years share movies), some of which do not exist
// (day 31 of a 30-day month, February 29 of 1997), and sometimes "", null or no field at all.
const releaseDateField = Arbitrary.all({
  shape: intBetween(0, 9),
  year: intBetween(1995, 2000),
  month: intBetween(1, 12),
  day: intBetween(1, 31)
}).pipe(
  Arbitrary.map(({ shape, year, month, day }): { release_date?: string | null } => {
    if (shape === 0) return { release_date: "" }
    if (shape === 1) return { release_date: null }
    if (shape === 2) return {}
    return { release_date: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}` }
  })
)

// Ids come from a small range so that the same movie often appears twice.
const movieArbitrary: Arbitrary.Arbitrary<TmdbMovie> = Arbitrary.all({
  id: intBetween(1, 25),
  thousandths: intBetween(0, 10_000),
  date: releaseDateField
}).pipe(Arbitrary.map(({ id, thousandths, date }) => ({ id, vote_average: thousandths / 1000, ...date })))

const moviesArbitrary = Arbitrary.array(movieArbitrary, { maxLength: 80 })

// Page sizes, used in turn until the movies run out. A size of 0 makes an empty page.
const pageSizesArbitrary = Arbitrary.array(intBetween(0, 8), { minLength: 1, maxLength: 8 })

// The default size of 10 caps arrays near 10 elements, too few for movies to repeat across several pages.
const checkOptions = { arbitrary: { runs: 200, size: 60 } }

/** Cuts the movies into consecutive pages numbered from 1, taking page sizes from `sizes` in turn. */
const splitIntoPages = (movies: ReadonlyArray<TmdbMovie>, sizes: ReadonlyArray<number>): Array<TopRatedPage> => {
  const usableSizes = sizes.some((size) => size > 0) ? sizes : [movies.length]
  const pages: Array<TopRatedPage> = []
  let start = 0
  while (start < movies.length) {
    const size = usableSizes[pages.length % usableSizes.length] ?? movies.length
    pages.push({
      page: pages.length + 1,
      results: movies.slice(start, start + size),
      total_pages: 0,
      total_results: movies.length
    })
    start += size
  }
  return pages
}

/** Checks a release date with the JavaScript Date parser, independently of the core's calendar code. */
const isCalendarDate = (value: string | null | undefined): value is string => {
  if (typeof value !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value)) return false
  const parsed = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value
}

/** Keeps the first copy of each id, in list order. */
const distinctMovies = (movies: ReadonlyArray<TmdbMovie>): Array<TmdbMovie> => {
  const byId = new Map<number, TmdbMovie>()
  for (const movie of movies) if (!byId.has(movie.id)) byId.set(movie.id, movie)
  return [...byId.values()]
}

/**
 * Rounds the mean of integer thousandths half up to `decimals` places with BigInt arithmetic and returns it
 * as a decimal string.
 */
const referenceMean = (thousandths: ReadonlyArray<number>, decimals: number): string => {
  const sum = thousandths.reduce((total, value) => total + BigInt(value), 0n)
  const count = BigInt(thousandths.length)
  const scale = 10n ** BigInt(decimals)
  // mean * 10^decimals = sum * scale / (count * 1000). Adding one half before the floor division rounds half up.
  const units = (2n * sum * scale + count * 1000n) / (2n * count * 1000n)
  const digits = units.toString().padStart(decimals + 1, "0")
  return decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`
}

describe("aggregate properties", () => {
  it.prop(
    "quantities sum to distinct dated movies",
    { movies: moviesArbitrary, sizes: pageSizesArbitrary },
    ({ movies, sizes }) => {
      const table = aggregate(splitIntoPages(movies, sizes))
      const distinct = distinctMovies(movies)
      const dated = distinct.filter((movie) => isCalendarDate(movie.release_date)).length

      assert.strictEqual(
        table.rows.reduce((total, row) => total + row.quantity, 0),
        dated
      )
      assert.strictEqual(table.movies, dated)
      assert.strictEqual(table.undated, distinct.length - dated)
      assert.strictEqual(table.duplicates, movies.length - distinct.length)
      assert.strictEqual(table.years, table.rows.length)
    },
    checkOptions
  )

  it.prop(
    "year averages lie within their movies",
    { movies: moviesArbitrary, sizes: pageSizesArbitrary },
    ({ movies, sizes }) => {
      const table = aggregate(splitIntoPages(movies, sizes), { decimals: 3 })
      const votesByYear = new Map<number, Array<number>>()
      for (const movie of distinctMovies(movies)) {
        if (!isCalendarDate(movie.release_date)) continue
        const year = Number(movie.release_date.slice(0, 4))
        votesByYear.set(year, [...(votesByYear.get(year) ?? []), movie.vote_average])
      }

      assert.deepStrictEqual(
        table.rows.map((row) => row.year),
        [...votesByYear.keys()].sort((left, right) => left - right)
      )
      for (const row of table.rows) {
        const votes = votesByYear.get(row.year) ?? []
        assert.strictEqual(row.quantity, votes.length, `quantity of ${row.year}`)
        assert.isAtLeast(row.voteAverage, Math.min(...votes), `average of ${row.year}`)
        assert.isAtMost(row.voteAverage, Math.max(...votes), `average of ${row.year}`)
      }
    },
    checkOptions
  )

  it.prop(
    "page order does not matter",
    { movies: moviesArbitrary, sizes: pageSizesArbitrary, sortKeys: Arbitrary.array(intBetween(0, 1000)) },
    ({ movies, sizes, sortKeys }) => {
      const pages = splitIntoPages(movies, sizes)
      const shuffled = pages
        .map((page, index) => ({ page, key: sortKeys[index] ?? 0 }))
        .sort((left, right) => left.key - right.key)
        .map(({ page }) => page)

      assert.deepStrictEqual(aggregate(shuffled), aggregate(pages))
    },
    checkOptions
  )

  it.prop(
    "a copy on the next page is a duplicate",
    {
      movies: Arbitrary.array(movieArbitrary, { minLength: 1, maxLength: 80 }),
      sizes: pageSizesArbitrary,
      pick: intBetween(0, 10_000),
      position: intBetween(0, 20),
      changedVote: intBetween(0, 10_000)
    },
    ({ movies, sizes, pick, position, changedVote }) => {
      const pages = splitIntoPages(movies, sizes)
      const nonEmpty = pages.filter((page) => page.results.length > 0)
      const source = nonEmpty[pick % nonEmpty.length]
      assert.isDefined(source)
      const original = source.results[pick % source.results.length]
      assert.isDefined(original)

      // The list shifted while it was read: the copy carries a newer vote and no release date, and loses.
      const copy: TmdbMovie = { id: original.id, vote_average: changedVote / 1000 }
      const next = pages[source.page] ?? { page: source.page + 1, results: [], total_pages: 0, total_results: 0 }
      const results = [...next.results]
      results.splice(position % (results.length + 1), 0, copy)
      const withCopy = [...pages]
      withCopy[source.page] = { ...next, results }

      const before = aggregate(pages)
      const after = aggregate(withCopy)
      assert.deepStrictEqual(after.rows, before.rows)
      assert.strictEqual(after.movies, before.movies)
      assert.strictEqual(after.undated, before.undated)
      assert.strictEqual(after.years, before.years)
      assert.strictEqual(after.duplicates, before.duplicates + 1)
    },
    checkOptions
  )

  it.prop(
    "page boundaries do not matter",
    { movies: moviesArbitrary, sizes: pageSizesArbitrary, otherSizes: pageSizesArbitrary },
    ({ movies, sizes, otherSizes }) => {
      assert.deepStrictEqual(aggregate(splitIntoPages(movies, otherSizes)), aggregate(splitIntoPages(movies, sizes)))
    },
    checkOptions
  )

  it.prop(
    "rounding matches a BigInt reference",
    {
      thousandths: Arbitrary.array(intBetween(0, 10_000), { minLength: 1, maxLength: 60 }),
      decimals: intBetween(0, 3)
    },
    ({ thousandths, decimals }) => {
      const movies = thousandths.map((value, index) => ({
        id: index + 1,
        release_date: "2001-09-09",
        vote_average: value / 1000
      }))
      const table = aggregate(splitIntoPages(movies, [20]), { decimals })
      const expected = referenceMean(thousandths, decimals)

      assert.deepStrictEqual(table.rows, [{ year: 2001, voteAverage: Number(expected), quantity: thousandths.length }])
    },
    checkOptions
  )

  it.prop(
    "rounding breaks ties upward",
    { halves: intBetween(0, 999), decimals: intBetween(0, 2) },
    ({ halves, decimals }) => {
      // Two votes one step apart at the last kept decimal, so their mean lies exactly half a step above the lower.
      const unit = 10 ** (3 - decimals)
      const low = (halves % (10_000 / unit)) * unit
      const high = low + unit
      const movies = [
        { id: 1, release_date: "2001-09-09", vote_average: low / 1000 },
        { id: 2, release_date: "2001-09-09", vote_average: high / 1000 }
      ]
      const table = aggregate(splitIntoPages(movies, [2]), { decimals })

      assert.strictEqual(table.rows[0]?.voteAverage, high / 1000)
    },
    checkOptions
  )
})

describe("YearlyRatingsPayload properties", () => {
  // Distinct four-digit years, any vote with at most three decimals, any quantity from 1 to MAX_QUANTITY.
  const rowsArbitrary: Arbitrary.Arbitrary<Array<YearlyRating>> = Arbitrary.array(
    Arbitrary.all({
      year: intBetween(1000, 9999),
      thousandths: intBetween(0, 10_000),
      quantity: intBetween(1, MAX_QUANTITY)
    }),
    { maxLength: 40 }
  ).pipe(
    Arbitrary.map((rows) => {
      const byYear = new Map(rows.map((row) => [row.year, row]))
      return [...byYear.values()].map(({ year, thousandths, quantity }) => ({
        year,
        voteAverage: thousandths / 1000,
        quantity
      }))
    })
  )

  const roundTrip = (rows: ReadonlyArray<YearlyRating>): unknown => {
    const json = JSON.stringify(Schema.encodeSync(YearlyRatingsPayload)(rows))
    return Schema.decodeUnknownSync(YearlyRatingsPayload)(JSON.parse(json))
  }

  it.prop(
    "rows round-trip through JSON",
    { rows: rowsArbitrary },
    ({ rows }) => {
      assert.deepStrictEqual(roundTrip(rows), rows)
    },
    checkOptions
  )

  it.prop(
    "aggregated tables round-trip through JSON",
    { movies: moviesArbitrary, sizes: pageSizesArbitrary, decimals: intBetween(0, 3) },
    ({ movies, sizes, decimals }) => {
      const table = aggregate(splitIntoPages(movies, sizes), { decimals })
      assert.deepStrictEqual(roundTrip(table.rows), table.rows)
    },
    checkOptions
  )

  it.prop(
    "every value is a string on the wire",
    { rows: rowsArbitrary },
    ({ rows }) => {
      for (const row of Schema.encodeSync(YearlyRatingsPayload)(rows)) {
        assert.strictEqual(typeof row.year, "string")
        assert.strictEqual(typeof row.vote_average, "string")
        assert.strictEqual(typeof row.quantity, "string")
      }
    },
    checkOptions
  )
})
