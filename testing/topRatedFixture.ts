import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** The real top-rated list recorded 2026-02-17: pages 1 to 500 of 20 movies, in CSV form. */
export const TOP_RATED_CSV = fileURLToPath(
  new URL("./fixtures/tmdb/tmdb_top_rated_movies.pages-001-500.2026-02-17.csv", import.meta.url)
)

export const MOVIES_PER_PAGE = 20

/** One movie as recorded in the CSV: `release_date` is `""` where TMDB had none. */
export interface RecordedMovie {
  readonly id: number
  readonly title: string
  readonly overview: string
  readonly release_date: string
  readonly vote_count: number
  readonly vote_average: number
}

/** A top-rated page envelope as TMDB serves it. */
export interface RecordedPage {
  readonly page: number
  readonly results: ReadonlyArray<RecordedMovie>
  readonly total_pages: number
  readonly total_results: number
}

/** Splits RFC 4180 CSV text into records. Quoted fields may hold commas, doubled quotes and line breaks. */
export const parseCsv = (text: string): Array<Array<string>> => {
  const records: Array<Array<string>> = []
  let record: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (char === '"') {
        quoted = false
      } else {
        field += char
      }
    } else if (char === '"') {
      quoted = true
    } else if (char === ",") {
      record.push(field)
      field = ""
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++
      record.push(field)
      records.push(record)
      record = []
      field = ""
    } else {
      field += char
    }
  }
  if (field !== "" || record.length > 0) {
    record.push(field)
    records.push(record)
  }
  return records
}

let cachedMovies: ReadonlyArray<RecordedMovie> | undefined

/** Reads the 10,000 recorded movies in list order. */
export const recordedMovies = (): ReadonlyArray<RecordedMovie> => {
  if (cachedMovies !== undefined) return cachedMovies
  const [header, ...rows] = parseCsv(readFileSync(TOP_RATED_CSV, "utf8"))
  const expected = "id,title,overview,release_date,vote_count,vote_average"
  if (header?.join(",") !== expected) {
    throw new Error(`Unexpected CSV header in ${TOP_RATED_CSV}: expected ${expected}`)
  }
  cachedMovies = rows.map(([id, title, overview, releaseDate, voteCount, voteAverage]) => ({
    id: Number(id),
    title: title ?? "",
    overview: overview ?? "",
    release_date: releaseDate ?? "",
    vote_count: Number(voteCount),
    vote_average: Number(voteAverage)
  }))
  return cachedMovies
}

/** Reads page `page` (1 to 500) of the recorded list: rows 20(page-1) to 20page-1. */
export const recordedPage = (page: number): RecordedPage => {
  const movies = recordedMovies()
  const totalPages = Math.ceil(movies.length / MOVIES_PER_PAGE)
  if (!Number.isInteger(page) || page < 1 || page > totalPages) {
    throw new RangeError(`Recorded page ${page} does not exist: pages run from 1 to ${totalPages}`)
  }
  return {
    page,
    results: movies.slice((page - 1) * MOVIES_PER_PAGE, page * MOVIES_PER_PAGE),
    total_pages: totalPages,
    total_results: movies.length
  }
}

/** Reads pages `from` to `to` of the recorded list, in page order. */
export const recordedPages = (from: number, to: number): ReadonlyArray<RecordedPage> =>
  Array.from({ length: to - from + 1 }, (_, index) => recordedPage(from + index))
