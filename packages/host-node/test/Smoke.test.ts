import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PAGES_1_TO_10_TABLE } from "../../../testing/goldenTable.ts"
import { awaitExit, freePort, pollJson, spawnCli } from "../../../testing/hostProcess.ts"

// `npm start` on the defaults, as on a clean checkout: no TMDB credential (the recorded snapshot), no
// DATABASE_URL (embedded PostgreSQL in a new DATA_DIR), and only PORT changed so that 3000 stays free.
describe("smoke", () => {
  it.live(
    "defaults serve the pages 1-10 table",
    () =>
      Effect.gen(function* () {
        const dataDir = yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "tmdb-yearly-smoke-"))),
          (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
        )
        const port = yield* freePort
        const startedAt = Date.now()
        const host = yield* spawnCli(["start"], { PORT: String(port), DATA_DIR: dataDir })
        const base = `http://127.0.0.1:${port}`

        const ready = yield* pollJson<{ status: string }>(
          host,
          `${base}/health/ready`,
          (status) => status === 200,
          60_000
        )
        assert.deepStrictEqual(ready, { status: "ready" })
        const latest = yield* pollJson<{ ratings: unknown }>(
          host,
          `${base}/yearly-ratings`,
          (status) => status === 200,
          60_000 - (Date.now() - startedAt)
        )
        const firstTableMillis = Date.now() - startedAt
        assert.deepStrictEqual(latest.ratings, PAGES_1_TO_10_TABLE)
        assert.isBelow(firstTableMillis, 60_000)
        console.info(`smoke: first table served ${firstTableMillis} ms after the process started`)
        assert.include(host.stdout(), "not live data")

        host.child.kill("SIGTERM")
        const exit = yield* awaitExit(host, 30_000)
        assert.strictEqual(exit.code, 0)
        assert.include(host.stdout(), "Embedded PostgreSQL stopped")
      }),
    90_000
  )
})
