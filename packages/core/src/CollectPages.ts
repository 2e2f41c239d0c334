import { Effect, Ref } from "effect"
import { MAX_TMDB_PAGE } from "./TopRatedPage.ts"
import type { TopRatedPage } from "./TopRatedPage.ts"
import { TopRatedSource } from "./TopRatedSource.ts"
import type { PageReadError } from "./TopRatedSource.ts"

/** Progress after one page was read: its number, how many pages are read so far, and how many will be. */
export interface PageProgress {
  readonly page: number
  readonly read: number
  readonly total: number
}

/** How many pages to read and how many to read at once. */
export interface CollectOptions {
  /** Pages requested, from page 1. The configuration allows 10 to 500, and pages above 500 are never read. */
  readonly pages: number
  /** Pages in flight at once after page 1, at least 1. */
  readonly concurrency: number
  /** Called after each page is read, in completion order. */
  readonly onPageRead?: (progress: PageProgress) => Effect.Effect<void>
}

/** The pages of one collection, and what was requested and read. */
export interface Collection {
  /** The pages read, in page order whatever the order in which they arrived. */
  readonly pages: ReadonlyArray<TopRatedPage>
  /** The number of pages requested in `CollectOptions.pages`. */
  readonly pagesRequested: number
  /**
   * The number of pages read: fewer than requested when page 1's `total_pages` is smaller or the request is
   * above 500.
   */
  readonly pagesRead: number
  /** Numbers of the pages whose `results` array was empty, ascending. */
  readonly emptyPages: ReadonlyArray<number>
}

const isPositiveInteger = (value: number): boolean => Number.isSafeInteger(value) && value >= 1

/**
 * Reads pages 1 to N of the top-rated list: page 1 first, then pages 2 to N with at most `concurrency` in
 * flight. N is the smallest of the pages requested, page 1's `total_pages` (at least 1) and 500, so page 501
 * is never requested.
 *
 * The collection is all or nothing: the first page that fails fails the whole collection with its
 * `PageReadError`, and the reads still in flight are interrupted. A page with an empty `results` array is
 * logged as a warning and listed in `emptyPages`. Dies with a `RangeError` when `pages` or `concurrency` is
 * not a positive integer.
 */
export const collectPages = Effect.fn("collectPages")(function* (
  options: CollectOptions
): Effect.fn.Return<Collection, PageReadError, TopRatedSource> {
  if (!isPositiveInteger(options.pages) || !isPositiveInteger(options.concurrency)) {
    return yield* Effect.die(
      new RangeError(
        `Invalid collection options: pages ${options.pages} and concurrency ${options.concurrency} must be positive integers`
      )
    )
  }
  const source = yield* TopRatedSource
  const readCount = yield* Ref.make(0)

  const first = yield* source.readPage(1)
  // Page 1 is already read, so N is at least 1 even when TMDB reports total_pages 0.
  const total = Math.max(1, Math.min(options.pages, first.total_pages, MAX_TMDB_PAGE))

  const afterRead = (page: number, result: TopRatedPage): Effect.Effect<TopRatedPage> =>
    Effect.gen(function* () {
      if (result.results.length === 0) {
        yield* Effect.logWarning("Top-rated page has no results").pipe(Effect.annotateLogs({ page }))
      }
      const read = yield* Ref.updateAndGet(readCount, (count) => count + 1)
      if (options.onPageRead !== undefined) yield* options.onPageRead({ page, read, total })
      return result
    })

  yield* afterRead(1, first)
  const restNumbers = Array.from({ length: total - 1 }, (_, index) => index + 2)
  const rest = yield* Effect.forEach(
    restNumbers,
    (page) => source.readPage(page).pipe(Effect.flatMap((result) => afterRead(page, result))),
    { concurrency: options.concurrency }
  )
  const pages = [first, ...rest]

  return {
    pages,
    pagesRequested: options.pages,
    pagesRead: pages.length,
    emptyPages: pages.flatMap((page, index) => (page.results.length === 0 ? [index + 1] : []))
  }
})
