import { assert, it } from "@effect/vitest"
import { SnapshotSource } from "@tmdb-yearly/adapters"
import { TopRatedSource } from "@tmdb-yearly/core"
import { Cause, Context, Effect, Exit, Layer } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { recordedMovies, recordedPage } from "../../../testing/topRatedFixture.ts"

const snapshotSource = Layer.build(SnapshotSource.layer).pipe(
  Effect.map((context) => Context.get(context, TopRatedSource))
)

/** Returns the recorded page as the snapshot serves it: four fields per movie, no overview or vote count. */
const expectedPage = (page: number) => {
  const recorded = recordedPage(page)
  return {
    ...recorded,
    results: recorded.results.map((movie) => ({
      id: movie.id,
      title: movie.title,
      release_date: movie.release_date,
      vote_average: movie.vote_average
    }))
  }
}

it.effect("snapshot page 1 is the first 20 movies", () =>
  Effect.gen(function* () {
    const source = yield* snapshotSource

    const page = yield* source.readPage(1)

    assert.deepStrictEqual(page, expectedPage(1))
    assert.strictEqual(page.results.length, 20)
    assert.strictEqual(page.results[0]?.id, 278)
    assert.strictEqual(page.total_pages, 500)
    assert.strictEqual(page.total_results, 10000)
  })
)

it.effect("snapshot page 500 is the last 20 movies", () =>
  Effect.gen(function* () {
    const source = yield* snapshotSource

    const page = yield* source.readPage(500)

    assert.deepStrictEqual(page, expectedPage(500))
    assert.strictEqual(page.results.length, 20)
    assert.strictEqual(page.results[19]?.id, recordedMovies()[9999]?.id)
  })
)

it.effect("snapshot has 9995 distinct ids", () =>
  Effect.gen(function* () {
    const source = yield* snapshotSource
    const ids: Array<number> = []

    for (let page = 1; page <= 500; page++) {
      const read = yield* source.readPage(page)
      assert.strictEqual(read.page, page)
      assert.strictEqual(read.results.length, 20)
      ids.push(...read.results.map((movie) => movie.id))
    }

    assert.strictEqual(ids.length, 10000)
    assert.strictEqual(new Set(ids).size, 9995)
  })
)

it.effect("snapshot keeps empty release dates", () =>
  Effect.gen(function* () {
    const source = yield* snapshotSource
    const undated: Array<number> = []

    for (let page = 1; page <= 500; page++) {
      const read = yield* source.readPage(page)
      undated.push(...read.results.filter((movie) => movie.release_date === "").map((movie) => movie.id))
    }

    assert.deepStrictEqual(undated, [733668, 1198870, 670355])
  })
)

it.effect("snapshot rejects pages outside 1 to 500", () =>
  Effect.gen(function* () {
    const source = yield* snapshotSource

    for (const page of [0, 501, -3]) {
      const error = yield* Effect.flip(source.readPage(page))
      assert.strictEqual(error.reason, "no-such-page")
      assert.strictEqual(error.page, page)
      assert.strictEqual(error.status, null)
    }
  })
)

it.effect("snapshot page that is not an integer is a defect", () =>
  Effect.gen(function* () {
    const source = yield* snapshotSource

    const exit = yield* Effect.exit(source.readPage(1.5))

    assert.isTrue(Exit.hasDies(exit))
    const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
    assert.instanceOf(defect, RangeError)
    assert.strictEqual((defect as RangeError).message, "A page number must be an integer, got 1.5")
  })
)

it.effect("invalid snapshot file fails the layer", () =>
  Effect.gen(function* () {
    const path = join(mkdtempSync(join(tmpdir(), "tmdb-snapshot-")), "broken.json")
    writeFileSync(
      path,
      JSON.stringify({ recorded_on: "2026-02-17", movies_per_page: 20, movies: [[1, "A", "", 11, 3]] })
    )

    const exit = yield* Effect.exit(Layer.build(SnapshotSource.layerFromFile(path)))

    assert.isTrue(Exit.isFailure(exit))
    const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
    assert.instanceOf(defect, Error)
    assert.include((defect as Error).message, path)
    assert.include((defect as Error).message, '["movies"][0][3]')
  })
)
