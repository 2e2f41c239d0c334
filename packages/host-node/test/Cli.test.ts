import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { awaitExit, spawnCli } from "../../../testing/hostProcess.ts"

// Each case stops at the configuration, before any database or server starts.
describe("CLI start-up checks", () => {
  const invalid: ReadonlyArray<readonly [string, string]> = [
    ["TMDB_PAGES", "5"],
    ["JOB_INTERVAL", "banana"],
    ["PORT", "99999"]
  ]
  for (const [variable, value] of invalid) {
    for (const command of ["start", "once"]) {
      it.live(`${command} rejects ${variable}=${value}`, () =>
        Effect.gen(function* () {
          const cli = yield* spawnCli([command], { [variable]: value })
          const exit = yield* awaitExit(cli, 20_000)
          assert.strictEqual(exit.code, 1)
          assert.include(cli.stderr(), `Invalid ${variable}="${value}"`)
          assert.strictEqual(cli.stdout(), "")
        })
      )
    }
  }

  it.live("unknown command exits 2 with usage", () =>
    Effect.gen(function* () {
      const cli = yield* spawnCli(["serve"], {})
      const exit = yield* awaitExit(cli, 20_000)
      assert.strictEqual(exit.code, 2)
      assert.include(cli.stderr(), "unknown command serve")
      assert.include(cli.stderr(), "Usage: tmdb-yearly")
    })
  )
})
