import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { awaitExit, freePort, spawnCli } from "../../../testing/hostProcess.ts"

/** A new temporary directory, removed when the test's scope closes. */
const temporaryDirectory = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "tmdb-yearly-cli-"))),
  (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
)

/** The last line that the process wrote to stderr. */
const lastLine = (text: string): string => text.trimEnd().split("\n").at(-1) ?? ""

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

  it.live("3-byte WEBHOOK_SECRET stops start-up", () =>
    Effect.gen(function* () {
      const cli = yield* spawnCli(["once"], { WEBHOOK_SECRET: "whsec_AAAA" })
      const exit = yield* awaitExit(cli, 20_000)
      assert.strictEqual(exit.code, 1)
      assert.strictEqual(
        cli.stderr(),
        "Configuration error: Invalid WEBHOOK_SECRET=<redacted, 10 characters>: expected whsec_ and the padded " +
          "standard base64 of a random key of 24 to 64 bytes (this key has 3 bytes). Generate one with: " +
          'echo "whsec_$(openssl rand -base64 32)"\n'
      )
      assert.strictEqual(cli.stdout(), "")
    })
  )

  it.live("unknown command exits 2 with usage", () =>
    Effect.gen(function* () {
      const cli = yield* spawnCli(["serve"], {})
      const exit = yield* awaitExit(cli, 20_000)
      assert.strictEqual(exit.code, 2)
      assert.include(cli.stderr(), "unknown command serve")
      assert.include(cli.stderr(), "Usage: tmdb-yearly")
    })
  )

  it.live("unusable DATA_DIR fails start-up in one line", () =>
    Effect.gen(function* () {
      const dataDir = yield* temporaryDirectory
      writeFileSync(join(dataDir, "notes.txt"), "not a PostgreSQL cluster")
      const port = yield* freePort
      const cli = yield* spawnCli(["start"], { PORT: String(port), DATA_DIR: dataDir })
      const exit = yield* awaitExit(cli, 20_000)
      assert.strictEqual(exit.code, 1)
      assert.match(lastLine(cli.stderr()), /^Start-up failed: Embedded PostgreSQL failed \(DATA_DIR=/)
      assert.include(lastLine(cli.stderr()), "Set DATABASE_URL")
    })
  )

  for (const command of ["start", "once"]) {
    it.live(
      `${command} with unreachable DATABASE_URL fails in one line`,
      () =>
        Effect.gen(function* () {
          // A port that was free a moment ago has no listener, so the connection is refused at once.
          const closedPort = yield* freePort
          const port = yield* freePort
          const cli = yield* spawnCli([command], {
            PORT: String(port),
            DATABASE_URL: `postgres://tmdb_user:hunter2secret@127.0.0.1:${closedPort}/db`,
            LOG_FORMAT: "json"
          })
          const exit = yield* awaitExit(cli, 30_000)
          assert.strictEqual(exit.code, 1)
          const expected =
            `Start-up failed: Cannot connect to PostgreSQL at 127.0.0.1:${closedPort} (DATABASE_URL): connection ` +
            "refused (ECONNREFUSED). Check that the server is running and reachable from this machine, or unset " +
            "DATABASE_URL to use the embedded server."
          assert.strictEqual(lastLine(cli.stderr()), expected)
          const output = cli.stdout() + cli.stderr()
          assert.notInclude(output, "Run failed")
          assert.notInclude(output, "hunter2secret")
          assert.notInclude(output, "tmdb_user")
          assert.notInclude(output, "    at ")
        }),
      40_000
    )
  }

  it.live(
    "port in use fails start-up in one line",
    () =>
      Effect.gen(function* () {
        const dataDir = yield* temporaryDirectory
        const blocker = yield* Effect.acquireRelease(
          Effect.promise(
            () =>
              new Promise<ReturnType<typeof createServer>>((resolve) => {
                const server = createServer()
                server.listen(0, "127.0.0.1", () => resolve(server))
              })
          ),
          (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
        )
        const address = blocker.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        const cli = yield* spawnCli(["start"], { PORT: String(port), DATA_DIR: dataDir })
        const exit = yield* awaitExit(cli, 60_000)
        assert.strictEqual(exit.code, 1)
        assert.strictEqual(
          lastLine(cli.stderr()),
          `Start-up failed: listen EADDRINUSE: address already in use 127.0.0.1:${port}`
        )
        assert.include(cli.stdout(), "Embedded PostgreSQL stopped")
      }),
    90_000
  )
})
