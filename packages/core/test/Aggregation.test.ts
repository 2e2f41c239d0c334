import { assert, describe, it } from "@effect/vitest"
import { aggregate, DEFAULT_VOTE_AVERAGE_DECIMALS, releaseYear } from "@tmdb-yearly/core"
import type { TmdbMovie, TopRatedPage } from "@tmdb-yearly/core"

const page = (number: number, results: ReadonlyArray<TmdbMovie>): TopRatedPage => ({
  page: number,
  results,
  total_pages: 500,
  total_results: 10_000
})

const movie = (id: number, releaseDate: string, voteAverage: number): TmdbMovie => ({
  id,
  release_date: releaseDate,
  vote_average: voteAverage
})

describe("aggregate", () => {
  it("averages 7.0, 7.1 and 7.2 to 7.1", () => {
    const table = aggregate([
      page(1, [movie(1, "2001-01-01", 7.0), movie(2, "2001-06-30", 7.1), movie(3, "2001-12-31", 7.2)])
    ])
    assert.deepStrictEqual(table.rows, [{ year: 2001, voteAverage: 7.1, quantity: 3 }])
  })

  it("rounds 6.35 half up to 6.4", () => {
    const table = aggregate([page(1, [movie(1, "1999-03-04", 6.0), movie(2, "1999-10-11", 6.7)])])
    assert.deepStrictEqual(table.rows, [{ year: 1999, voteAverage: 6.4, quantity: 2 }])
    // The float route this function avoids: (6.0 + 6.7) / 2 is 6.3499999999999996447, so toFixed gives 6.3.
    assert.strictEqual(((6.0 + 6.7) / 2).toFixed(1), "6.3")
  })

  it("uses one decimal by default", () => {
    assert.strictEqual(DEFAULT_VOTE_AVERAGE_DECIMALS, 1)
    const pages = [page(1, [movie(1, "2010-01-01", 8.25), movie(2, "2010-01-02", 8.2)])]
    assert.deepStrictEqual(aggregate(pages).rows, aggregate(pages, { decimals: 1 }).rows)
    assert.strictEqual(aggregate(pages).rows[0]?.voteAverage, 8.2)
  })

  it("rounds at 0 to 3 decimals", () => {
    // The exact mean of 8.25, 8.2 and 8.3 is 8.25.
    const pages = [page(1, [movie(1, "2010-01-01", 8.25), movie(2, "2010-01-02", 8.2), movie(3, "2010-01-03", 8.3)])]
    assert.strictEqual(aggregate(pages, { decimals: 0 }).rows[0]?.voteAverage, 8)
    assert.strictEqual(aggregate(pages, { decimals: 1 }).rows[0]?.voteAverage, 8.3)
    assert.strictEqual(aggregate(pages, { decimals: 2 }).rows[0]?.voteAverage, 8.25)
    assert.strictEqual(aggregate(pages, { decimals: 3 }).rows[0]?.voteAverage, 8.25)
  })

  it("rounds a repeating mean at 3 decimals", () => {
    // 7.001 + 7.002 + 7.002 = 21.005, and 21.005 / 3 = 7.001666...
    const pages = [
      page(1, [movie(1, "2020-02-29", 7.001), movie(2, "2020-03-01", 7.002), movie(3, "2020-03-02", 7.002)])
    ]
    assert.strictEqual(aggregate(pages, { decimals: 3 }).rows[0]?.voteAverage, 7.002)
  })

  it("rejects decimals outside 0 to 3", () => {
    const pages = [page(1, [movie(1, "2010-01-01", 8)])]
    for (const decimals of [-1, 4, 1.5, Number.NaN]) {
      assert.throws(() => aggregate(pages, { decimals }), RangeError)
    }
  })

  it("counts missing release dates as undated", () => {
    const table = aggregate([
      page(1, [
        { id: 1, release_date: "", vote_average: 9 },
        { id: 2, release_date: null, vote_average: 9 },
        { id: 3, vote_average: 9 },
        movie(4, "1994-09-23", 8.7)
      ])
    ])
    assert.deepStrictEqual(table, {
      rows: [{ year: 1994, voteAverage: 8.7, quantity: 1 }],
      movies: 1,
      duplicates: 0,
      undated: 3,
      years: 1
    })
  })

  it("counts malformed release dates as undated", () => {
    const table = aggregate([
      page(1, [
        movie(1, "1994", 8),
        movie(2, "1994-9-23", 8),
        movie(3, "1994-09-23T00:00:00Z", 8),
        movie(4, "2001-02-29", 8),
        movie(5, "1900-02-29", 8),
        movie(6, "1994-13-01", 8),
        movie(7, "1994-04-31", 8),
        movie(8, "1994-00-10", 8),
        movie(9, "0999-05-05", 8),
        movie(10, "2000-02-29", 6)
      ])
    ])
    assert.deepStrictEqual(table.rows, [{ year: 2000, voteAverage: 6, quantity: 1 }])
    assert.strictEqual(table.undated, 9)
    assert.strictEqual(table.movies, 1)
  })

  it("keeps the first copy of a repeated id", () => {
    const table = aggregate([
      page(1, [movie(1, "2001-01-01", 8.0), movie(2, "2001-01-01", 7.0)]),
      page(2, [movie(2, "2005-05-05", 9.9), movie(3, "2001-01-01", 6.0)])
    ])
    assert.deepStrictEqual(table, {
      rows: [{ year: 2001, voteAverage: 7, quantity: 3 }],
      movies: 3,
      duplicates: 1,
      undated: 0,
      years: 1
    })
  })

  it("keeps the first copy in page order", () => {
    // Page 2 arrived first, but page 1's copy of id 2 is the one kept.
    const table = aggregate([
      page(2, [movie(2, "2005-05-05", 9.9)]),
      page(1, [movie(1, "2001-01-01", 8.0), movie(2, "2001-01-01", 7.0)])
    ])
    assert.deepStrictEqual(table.rows, [{ year: 2001, voteAverage: 7.5, quantity: 2 }])
    assert.strictEqual(table.duplicates, 1)
  })

  it("counts a duplicate of an undated movie", () => {
    const table = aggregate([page(1, [{ id: 1, vote_average: 5 }]), page(2, [{ id: 1, vote_average: 5 }])])
    assert.strictEqual(table.undated, 1)
    assert.strictEqual(table.duplicates, 1)
    assert.strictEqual(table.movies, 0)
  })

  it("accepts a page with empty results", () => {
    const table = aggregate([
      page(1, [movie(1, "1977-05-25", 8.2)]),
      page(2, []),
      page(3, [movie(2, "1980-05-17", 8.4)])
    ])
    assert.deepStrictEqual(table, {
      rows: [
        { year: 1977, voteAverage: 8.2, quantity: 1 },
        { year: 1980, voteAverage: 8.4, quantity: 1 }
      ],
      movies: 2,
      duplicates: 0,
      undated: 0,
      years: 2
    })
  })

  it("returns an empty table for no pages", () => {
    assert.deepStrictEqual(aggregate([]), { rows: [], movies: 0, duplicates: 0, undated: 0, years: 0 })
  })

  it("sorts rows by year", () => {
    const table = aggregate([
      page(1, [movie(1, "2010-01-01", 8), movie(2, "1950-01-01", 7), movie(3, "1980-01-01", 6)])
    ])
    assert.deepStrictEqual(
      table.rows.map((row) => row.year),
      [1950, 1980, 2010]
    )
  })

  it("averages the extremes 0 and 10", () => {
    const table = aggregate([page(1, [movie(1, "2010-01-01", 0), movie(2, "2010-01-01", 10)])], { decimals: 0 })
    assert.deepStrictEqual(table.rows, [{ year: 2010, voteAverage: 5, quantity: 2 }])
  })
})

describe("releaseYear", () => {
  it("reads the year of a valid date", () => {
    assert.strictEqual(releaseYear("1902-06-15"), 1902)
    assert.strictEqual(releaseYear("2024-02-29"), 2024)
    assert.strictEqual(releaseYear("9999-12-31"), 9999)
  })

  it("rejects what is not a calendar date", () => {
    for (const value of ["", null, undefined, "2023-02-29", "2100-02-29", "20240101", " 2024-01-01", "2024-01-01 "]) {
      assert.strictEqual(releaseYear(value), undefined, String(value))
    }
  })
})
