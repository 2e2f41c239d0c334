import { MAX_TMDB_PAGE, PageReadError, TopRatedSource, VoteAverage, type TopRatedPage } from "@tmdb-yearly/core"
import { Effect, Layer, Result, Schema } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** Day the bundled list was recorded from TMDB. */
export const SNAPSHOT_RECORDED_ON = "2026-02-17"

/** Absolute path of the bundled snapshot file, next to this package's sources. */
export const SNAPSHOT_FILE = fileURLToPath(new URL(`../data/top-rated.${SNAPSHOT_RECORDED_ON}.json`, import.meta.url))

const SnapshotFile = Schema.Struct({
  recorded_on: Schema.String,
  movies_per_page: Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0))),
  movies: Schema.Array(
    Schema.Tuple([Schema.Int, Schema.String, Schema.String, VoteAverage, Schema.Int]).annotate({
      description: "[id, title, release_date, vote_average, vote_count]"
    })
  )
})

/** Reads and checks a snapshot file. Throws with the path and the failing field when it is not valid. */
const loadPages = (path: string): ReadonlyArray<TopRatedPage> => {
  const text = readFileSync(path, "utf8")
  const decoded = Schema.decodeUnknownResult(SnapshotFile)(JSON.parse(text))
  if (Result.isFailure(decoded)) {
    throw new Error(`The TMDB snapshot ${path} is not valid: ${decoded.failure.message.replace(/\s*\n\s*/g, " ")}`)
  }
  const { movies, movies_per_page: perPage } = decoded.success
  const totalPages = Math.ceil(movies.length / perPage)
  return Array.from({ length: totalPages }, (_, index) => ({
    page: index + 1,
    results: movies.slice(index * perPage, (index + 1) * perPage).map(([id, title, releaseDate, voteAverage]) => ({
      id,
      title,
      release_date: releaseDate,
      vote_average: voteAverage
    })),
    total_pages: totalPages,
    total_results: movies.length
  }))
}

const make = (path: string) =>
  Effect.sync(() => {
    const pages = loadPages(path)
    const readPage = Effect.fn("SnapshotSource.readPage")(function* (page: number) {
      if (!Number.isSafeInteger(page)) {
        return yield* Effect.die(new RangeError(`A page number must be an integer, got ${page}`))
      }
      const found = pages[page - 1]
      if (found === undefined || page > MAX_TMDB_PAGE) {
        return yield* new PageReadError({
          page,
          reason: "no-such-page",
          status: null,
          detail: `the snapshot recorded ${SNAPSHOT_RECORDED_ON} has pages 1 to ${pages.length}`
        })
      }
      return found
    })
    return TopRatedSource.of({ readPage })
  })

/**
 * A `TopRatedSource` that serves TMDB's top-rated list as recorded on 2026-02-17, from a file bundled with this
 * package: pages 1 to 500 of 20 movies, `total_pages` 500 and `total_results` 10000, with an empty
 * `release_date` kept as `""`. It makes no network request. Other page numbers fail with `PageReadError`
 * `no-such-page`, and a page number that is not an integer is a defect. The file is read and checked when the layer is built, which dies if it is missing or invalid.
 */
export const SnapshotSource: {
  /** The source over the bundled snapshot. */
  readonly layer: Layer.Layer<TopRatedSource>
  /** The source over another file in the same format, such as a newer recording. */
  readonly layerFromFile: (path: string) => Layer.Layer<TopRatedSource>
} = {
  layer: Layer.effect(TopRatedSource, make(SNAPSHOT_FILE)),
  layerFromFile: (path) => Layer.effect(TopRatedSource, make(path))
}
