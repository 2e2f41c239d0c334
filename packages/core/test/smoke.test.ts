import { assert, it } from "@effect/vitest"
import { MAX_TMDB_PAGE } from "@tmdb-yearly/core"

it("core resolves from source", () => {
  assert.strictEqual(MAX_TMDB_PAGE, 500)
})
