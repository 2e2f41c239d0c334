import { Context, Schema } from "effect"
import type { Effect } from "effect"
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
>()("@tmdb-yearly/core/TopRatedSource") {}
