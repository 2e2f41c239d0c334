import { assert, describe, it } from "@effect/vitest"
import { aggregate, TopRatedPage, YearlyRatingsPayload } from "@tmdb-yearly/core"
import { Schema } from "effect"
import { PAGES_1_TO_10_TABLE } from "../../../testing/goldenTable.ts"
import { recordedPages } from "../../../testing/topRatedFixture.ts"

// The real top-rated list recorded 2026-02-17, decoded through the core's own page schema as a run would.
const decodePages = (from: number, to: number): ReadonlyArray<TopRatedPage> =>
  recordedPages(from, to).map((page) => Schema.decodeUnknownSync(TopRatedPage)(page))

const allPages = decodePages(1, 500)
const firstTenPages = decodePages(1, 10)

describe("aggregate on the recorded list", () => {
  it("counts pages 1 to 500", () => {
    const table = aggregate(allPages)
    assert.strictEqual(table.movies, 9_992)
    assert.strictEqual(table.duplicates, 5)
    assert.strictEqual(table.undated, 3)
    assert.strictEqual(table.years, 113)
    assert.strictEqual(table.rows.length, 113)
  })

  it("accounts for all 10,000 entries", () => {
    const table = aggregate(allPages)
    assert.strictEqual(table.movies + table.duplicates + table.undated, 10_000)
  })

  it("averages 1902 and 2025 at 3 decimals", () => {
    const table = aggregate(allPages, { decimals: 3 })
    const byYear = new Map(table.rows.map((row) => [row.year, row]))
    assert.deepStrictEqual(byYear.get(1902), { year: 1902, voteAverage: 7.902, quantity: 1 })
    assert.deepStrictEqual(byYear.get(2025), { year: 2025, voteAverage: 6.792, quantity: 151 })

    const wire = Schema.encodeSync(YearlyRatingsPayload)(table.rows)
    const wireByYear = new Map(wire.map((row) => [row.year, row]))
    assert.deepStrictEqual(wireByYear.get("1902"), { year: "1902", vote_average: "7.902", quantity: "1" })
    assert.deepStrictEqual(wireByYear.get("2025"), { year: "2025", vote_average: "6.792", quantity: "151" })
  })

  it("writes a whole average without decimals", () => {
    const table = aggregate(allPages)
    const row1972 = table.rows.find((row) => row.year === 1972)
    assert.deepStrictEqual(row1972, { year: 1972, voteAverage: 7, quantity: 34 })
    const wire = Schema.encodeSync(YearlyRatingsPayload)(table.rows)
    assert.deepStrictEqual(
      wire.find((row) => row.year === "1972"),
      { year: "1972", vote_average: "7", quantity: "34" }
    )
  })

  it("spans 1902 to 2026", () => {
    const table = aggregate(allPages)
    assert.strictEqual(table.rows[0]?.year, 1902)
    assert.strictEqual(table.rows.at(-1)?.year, 2026)
  })

  it("counts pages 1 to 10", () => {
    const table = aggregate(firstTenPages)
    assert.strictEqual(table.movies, 200)
    assert.strictEqual(table.duplicates, 0)
    assert.strictEqual(table.undated, 0)
    assert.strictEqual(table.years, 72)
  })

  it("matches the pages 1 to 10 table", () => {
    const table = aggregate(firstTenPages, { decimals: 1 })
    assert.deepStrictEqual(Schema.encodeSync(YearlyRatingsPayload)(table.rows), PAGES_1_TO_10_TABLE)
  })

  it("ignores the order pages arrive in", () => {
    const reversed = [...allPages].reverse()
    assert.deepStrictEqual(aggregate(reversed, { decimals: 3 }), aggregate(allPages, { decimals: 3 }))
  })
})
