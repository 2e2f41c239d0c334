import { Effect } from "effect"
import type { Scope } from "effect"
import { readFileSync } from "node:fs"
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { fileURLToPath } from "node:url"
import { MOVIES_PER_PAGE, recordedMovies } from "./topRatedFixture.ts"

/** Highest page TMDB serves for lists. It responds with HTTP 400 and `status_code` 22 above it. */
const MAX_PAGE = 500

const INVALID_API_KEY_BODY = readFileSync(
  fileURLToPath(new URL("./fixtures/tmdb/error.status-07.invalid-api-key.json", import.meta.url)),
  "utf8"
)
const RESOURCE_NOT_FOUND_BODY = readFileSync(
  fileURLToPath(new URL("./fixtures/tmdb/error.status-34.resource-not-found.json", import.meta.url)),
  "utf8"
)
// TMDB's error body for a page outside 1 to 500.
const INVALID_PAGE_BODY = JSON.stringify({
  success: false,
  status_code: 22,
  status_message: "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."
})

/** A movie as the fake serves it: an `id` and any other fields, passed through to the JSON as they are. */
export interface FakeMovie {
  readonly id: number
  readonly [field: string]: unknown
}

/** The envelope of one page, as handed to a `Transform` fault. The fault gets its own copy to change. */
export interface FakePageBody {
  page: number
  results: Array<Record<string, unknown>>
  total_pages: number
  total_results: number
}

/**
 * A scripted response to one request for a page:
 * - `Status`: that status, with `body` (an object is sent as JSON, a string as it is) and extra `headers`.
 *   Without a `content-type` header, an object body is `application/json` and a string body is `text/html`;
 * - `Stall`: no response at all, until the client gives up or the fake closes;
 * - `Reset`: the connection is destroyed before any response, so the client sees a network error;
 * - `Delay`: the normal response, `millis` milliseconds late;
 * - `Transform`: status 200 with the JSON of what `transform` returns for a copy of the normal envelope.
 */
export type FakeFault =
  | {
      readonly _tag: "Status"
      readonly status: number
      readonly body?: string | object | undefined
      readonly headers?: Readonly<Record<string, string>> | undefined
    }
  | { readonly _tag: "Stall" }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "Delay"; readonly millis: number }
  | { readonly _tag: "Transform"; readonly transform: (body: FakePageBody) => unknown }

/**
 * Faults for one page: a single fault applies to every request for the page, and a list applies its n-th
 * entry to the n-th request made after `setFault`. A `null` entry, and every request past the end of the
 * list, gets the normal response.
 */
export type FakeFaultPlan = FakeFault | ReadonlyArray<FakeFault | null>

/** The credential the fake accepts: a v3 key in `api_key`, or a v4 token in `Authorization: Bearer`. */
export type FakeCredential = { readonly apiKey: string } | { readonly accessToken: string }

/** Settings of the fake. */
export interface FakeTmdbOptions {
  /** The credential to accept. Other requests get 401 with TMDB's `status_code` 7 body. Default: accept all. */
  readonly credential?: FakeCredential | undefined
  /** The list to serve, in rank order. Default: the real list recorded 2026-02-17 (10,000 movies). */
  readonly movies?: ReadonlyArray<FakeMovie> | undefined
  /** Movies per page. Default 20, as TMDB. */
  readonly moviesPerPage?: number | undefined
  /** `total_pages` to report, for example above 500 as TMDB does for long lists. Default: from `movies`. */
  readonly totalPages?: number | undefined
  /** `total_results` to report. Default: the number of `movies`. */
  readonly totalResults?: number | undefined
}

/** One request as the fake received it. */
export interface RecordedRequest {
  readonly method: string
  /** The path without the query string, such as `/3/movie/top_rated`. */
  readonly path: string
  /** The query string as sent, without the leading `?`. */
  readonly search: string
  /** The query parameters, the last value winning where a name repeats. */
  readonly query: Readonly<Record<string, string>>
  /** Request headers, names in lower case. */
  readonly headers: IncomingHttpHeaders
  /** Arrival time in milliseconds since the Unix epoch, with fractions, from a monotonic clock. */
  readonly time: number
  /** The requested page of `/movie/top_rated` (1 when `page` is missing), or `undefined` for other paths. */
  readonly page: number | undefined
}

/** A running fake of TMDB's `GET /3/movie/top_rated` on 127.0.0.1. */
export interface FakeTmdb {
  /** The API root to use as `baseUrl`, such as `http://127.0.0.1:40123/3`. */
  readonly url: string
  /** Every request received so far, in arrival order. */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** The requests for `/movie/top_rated` page `page`, in arrival order. */
  readonly requestsFor: (page: number) => ReadonlyArray<RecordedRequest>
  /** Scripts the responses for page `page`, replacing its earlier plan. `null` removes the plan. */
  readonly setFault: (page: number, plan: FakeFaultPlan | null) => void
  /** Removes every fault plan and clears the recorded requests. */
  readonly reset: () => void
  /** Stops the server and drops open connections, stalled ones included. */
  readonly close: () => Promise<void>
}

interface PlanState {
  readonly plan: FakeFaultPlan
  requestsSeen: number
}

const isFaultList = (plan: FakeFaultPlan): plan is ReadonlyArray<FakeFault | null> => Array.isArray(plan)

const sendBody = (
  response: ServerResponse,
  status: number,
  body: string | object | undefined,
  headers: Readonly<Record<string, string>> = {}
): void => {
  let text = ""
  if (typeof body === "string") text = body
  else if (body !== undefined) text = JSON.stringify(body)
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type")
  const contentType = typeof body === "string" ? "text/html; charset=utf-8" : "application/json;charset=utf-8"
  response.writeHead(status, {
    ...(hasContentType || body === undefined ? {} : { "content-type": contentType }),
    ...headers
  })
  response.end(text)
}

const isAuthorized = (credential: FakeCredential | undefined, request: IncomingMessage, query: URLSearchParams) => {
  if (credential === undefined) return true
  if ("apiKey" in credential) return query.get("api_key") === credential.apiKey
  return request.headers.authorization === `Bearer ${credential.accessToken}`
}

/**
 * Starts a loopback fake of TMDB's top-rated endpoint on 127.0.0.1, on a free port.
 *
 * `GET /3/movie/top_rated?page=N` responds as TMDB does. The credential is checked first, and a mismatch gets
 * 401 with TMDB's `status_code` 7 body. A page outside 1 to 500, or not an integer, gets 400 with
 * `status_code` 22. A page past the end of the list gets an empty `results` array, and the others get 20
 * movies. Other paths get 404 with TMDB's `status_code` 34 body. Faults set with `setFault` replace the
 * response after the credential check. Every request is recorded, rejected ones included.
 */
export const startFakeTmdb = async (options: FakeTmdbOptions = {}): Promise<FakeTmdb> => {
  const movies = options.movies ?? recordedMovies()
  const moviesPerPage = options.moviesPerPage ?? MOVIES_PER_PAGE
  const totalPages = options.totalPages ?? Math.ceil(movies.length / moviesPerPage)
  const totalResults = options.totalResults ?? movies.length
  const requests: Array<RecordedRequest> = []
  const plans = new Map<number, PlanState>()

  const pageBody = (page: number): FakePageBody => ({
    page,
    results: movies.slice((page - 1) * moviesPerPage, page * moviesPerPage).map((movie) => ({ ...movie })),
    total_pages: totalPages,
    total_results: totalResults
  })

  const nextFault = (page: number): FakeFault | null => {
    const state = plans.get(page)
    if (state === undefined) return null
    state.requestsSeen += 1
    if (!isFaultList(state.plan)) return state.plan
    return state.plan[state.requestsSeen - 1] ?? null
  }

  const answerWithFault = (response: ServerResponse, fault: FakeFault, page: number): void => {
    switch (fault._tag) {
      case "Status":
        return sendBody(response, fault.status, fault.body, fault.headers)
      case "Stall":
        return
      case "Reset":
        response.socket?.destroy()
        return
      case "Delay": {
        const timer = setTimeout(() => sendBody(response, 200, pageBody(page)), fault.millis)
        response.on("close", () => clearTimeout(timer))
        return
      }
      case "Transform":
        return sendBody(response, 200, JSON.stringify(fault.transform(pageBody(page))), {
          "content-type": "application/json;charset=utf-8"
        })
    }
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1")
    const isTopRated = url.pathname === "/3/movie/top_rated"
    const pageParam = url.searchParams.get("page")
    let page: number | undefined
    if (isTopRated) page = pageParam === null ? 1 : Number(pageParam)
    requests.push({
      method: request.method ?? "",
      path: url.pathname,
      search: url.search.slice(1),
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      time: performance.timeOrigin + performance.now(),
      page
    })

    if (!isAuthorized(options.credential, request, url.searchParams)) {
      return sendBody(response, 401, INVALID_API_KEY_BODY, { "content-type": "application/json;charset=utf-8" })
    }
    if (page === undefined || request.method !== "GET") {
      return sendBody(response, 404, RESOURCE_NOT_FOUND_BODY, { "content-type": "application/json;charset=utf-8" })
    }
    if (!Number.isInteger(page) || page < 1 || page > MAX_PAGE) {
      return sendBody(response, 400, INVALID_PAGE_BODY, { "content-type": "application/json;charset=utf-8" })
    }
    const fault = nextFault(page)
    if (fault !== null) return answerWithFault(response, fault, page)
    sendBody(response, 200, pageBody(page))
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/3`,
    requests,
    requestsFor: (page) => requests.filter((request) => request.page === page),
    setFault: (page, plan) => {
      if (plan === null) plans.delete(page)
      else plans.set(page, { plan, requestsSeen: 0 })
    },
    reset: () => {
      plans.clear()
      requests.length = 0
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)))
        server.closeAllConnections()
      })
  }
}

/** `startFakeTmdb` as a scoped resource: the fake closes when the scope does. */
export const fakeTmdbScoped = (options: FakeTmdbOptions = {}): Effect.Effect<FakeTmdb, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startFakeTmdb(options)),
    (fake) => Effect.promise(() => fake.close())
  )
