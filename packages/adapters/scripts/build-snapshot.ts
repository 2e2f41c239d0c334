/**
 * Writes data/top-rated.2026-02-17.json, the snapshot that SnapshotSource serves, from the recorded CSV in
 * testing/fixtures/tmdb. Run it from the repository root with `npm run build:snapshot -w @tmdb-yearly/adapters`
 * after the CSV changes.
 *
 * The file keeps five fields per movie, as an array [id, title, release_date, vote_average, vote_count] in rank
 * order, one movie per line: the overview is left out, which cuts the size from 3.1 MB to about a fifth.
 */
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { recordedMovies } from "../../../testing/topRatedFixture.ts"

const RECORDED_ON = "2026-02-17"
const output = fileURLToPath(new URL(`../data/top-rated.${RECORDED_ON}.json`, import.meta.url))

const movies = recordedMovies()
const rows = movies.map((movie) =>
  JSON.stringify([movie.id, movie.title, movie.release_date, movie.vote_average, movie.vote_count])
)
const header = {
  recorded_on: RECORDED_ON,
  language: "en-US",
  movies_per_page: 20,
  fields: ["id", "title", "release_date", "vote_average", "vote_count"]
}
const headerLines = Object.entries(header).map(
  ([name, value]) => `  ${JSON.stringify(name)}: ${JSON.stringify(value)},`
)
const text = ["{", ...headerLines, '  "movies": [', rows.map((row) => `    ${row}`).join(",\n"), "  ]", "}", ""].join(
  "\n"
)

writeFileSync(output, text)
console.log(`Wrote ${movies.length} movies to ${output}`)
