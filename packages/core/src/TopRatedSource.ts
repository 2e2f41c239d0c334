import { Context, Effect, Layer, Schema } from "effect"
import type { TopRatedPage } from "./TopRatedPage.ts"

/**
 * Why a page could not be read:
 * - `unauthorized`: TMDB rejected the credential (HTTP 401, `status_code` 7);
 * - `no-such-page`: the page is beyond what TMDB serves (HTTP 400, `status_code` 22);
 * - `http-status`: another non-2xx status, after retries where it is transient;
 * - `transport`: a network error, after retries;
 * - `timeout`: every attempt timed out;
 * - `decode`: a 2xx body that is not a top-rated page.
 */
export const PageReadReason = Schema.Literals([
  "unauthorized",
  "no-such-page",
  "http-status",
  "transport",
  "timeout",
  "decode"
])
export type PageReadReason = typeof PageReadReason.Type

/** A page of the top-rated list that could not be read, with the HTTP status when there was one. */
export class PageReadError extends Schema.TaggedError<PageReadError>()("PageReadError", {
  page: Schema.Int,
  reason: PageReadReason,
  status: Schema.NullOr(Schema.Int),
  detail: Schema.String
}) {
  override get message(): string {
    return `Page ${this.page} could not be read (${this.reason}): ${this.detail}`
  }
}

/**
 * The source of TMDB's top-rated list, one page at a time. Pages are numbered from 1. Implementations retry
 * transient faults themselves and fail with `PageReadError` only when the page cannot be had.
 */
export class TopRatedSource extends Context.Service<
  TopRatedSource,
  {
    readonly readPage: (page: number) => Effect.Effect<TopRatedPage, PageReadError>
  }
>()("@tmdb-yearly/core/TopRatedSource") {
  /**
   * Builds a source that serves the given pages by their `page` number, for tests and examples. Any other
   * page number fails with `PageReadError` `no-such-page` and no status. When two pages share a number, the
   * first one is served.
   */
  static readonly makeMemory = (pages: ReadonlyArray<TopRatedPage>): TopRatedSource["Service"] => {
    const byNumber = new Map<number, TopRatedPage>()
    for (const page of pages) {
      if (!byNumber.has(page.page)) byNumber.set(page.page, page)
    }
    const readPage = Effect.fn("TopRatedSource.readPage")(function* (page: number) {
      const found = byNumber.get(page)
      if (found === undefined) {
        return yield* new PageReadError({
          page,
          reason: "no-such-page",
          status: null,
          detail: `the in-memory source has no page ${page} (it has ${byNumber.size} pages)`
        })
      }
      return found
    })
    return TopRatedSource.of({ readPage })
  }

  /** A layer with the in-memory source of `makeMemory`. */
  static readonly layerMemory = (pages: ReadonlyArray<TopRatedPage>): Layer.Layer<TopRatedSource> =>
    Layer.succeed(TopRatedSource, TopRatedSource.makeMemory(pages))
}
