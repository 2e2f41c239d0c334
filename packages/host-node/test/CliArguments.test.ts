import { assert, describe, it } from "@effect/vitest"
import { RunReport } from "@tmdb-yearly/core"
import { DateTime } from "effect"
import { parseCliArguments } from "../src/CliArguments.ts"
import { formatRunFailure, formatRunSummary, formatYearlyTable } from "../src/OnceOutput.ts"

describe("parseCliArguments", () => {
  it("start without options", () => {
    assert.deepStrictEqual(parseCliArguments(["start"]), { _tag: "Start" })
  })

  it("once with and without --json", () => {
    assert.deepStrictEqual(parseCliArguments(["once"]), { _tag: "Once", json: false })
    assert.deepStrictEqual(parseCliArguments(["once", "--json"]), { _tag: "Once", json: true })
  })

  it("help wins over the rest", () => {
    assert.deepStrictEqual(parseCliArguments(["once", "--help"]), { _tag: "Help" })
    assert.deepStrictEqual(parseCliArguments(["-h"]), { _tag: "Help" })
  })

  it("usage errors name the problem", () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [[], "missing command"],
      [["serve"], "unknown command serve"],
      [["once", "--csv"], "unknown option for once: --csv"],
      [["start", "--json"], "start takes no options"]
    ]
    for (const [args, reason] of cases) {
      const parsed = parseCliArguments(args)
      assert.strictEqual(parsed._tag, "UsageError")
      assert.include(parsed._tag === "UsageError" ? parsed.reason : "", reason)
    }
  })
})

const report = (overrides: Partial<ConstructorParameters<typeof RunReport>[0]>) =>
  new RunReport({
    runId: "run-1",
    startedAt: DateTime.makeUnsafe(Date.UTC(2026, 1, 17, 12, 0, 0)),
    finishedAt: DateTime.makeUnsafe(Date.UTC(2026, 1, 17, 12, 0, 2, 500)),
    pagesRequested: 10,
    pagesRead: 10,
    movies: 200,
    duplicates: 1,
    undated: 2,
    years: 72,
    deliveryId: "msg_run-1",
    outcome: "succeeded",
    failure: null,
    ...overrides
  })

describe("once output", () => {
  it("table aligns columns", () => {
    const text = formatYearlyTable([
      { year: "1921", vote_average: "8.1", quantity: "1" },
      { year: "1994", vote_average: "8.45", quantity: "12" }
    ])
    assert.strictEqual(
      text,
      ["year  vote_average  quantity", "1921           8.1         1", "1994          8.45        12"].join("\n")
    )
  })

  it("summary counts pages and movies", () => {
    assert.strictEqual(
      formatRunSummary(report({})),
      "72 years, 200 movies from 10 pages (1 duplicates, 2 undated). Published as delivery msg_run-1 in 2.5 s."
    )
  })

  it("failure names the page", () => {
    const failed = report({
      outcome: "failed",
      deliveryId: null,
      failure: { page: 3, reason: "Page 3 could not be read (http-status): HTTP 502" }
    })
    assert.strictEqual(
      formatRunFailure(failed),
      "Run failed at page 3: Page 3 could not be read (http-status): HTTP 502"
    )
  })
})
