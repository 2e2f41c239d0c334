import { Effect } from "effect"
import type { Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"

/** The repository root, where the CLI runs as `npm start` runs it. */
export const REPOSITORY_ROOT = fileURLToPath(new URL("../", import.meta.url))

const CLI = "packages/host-node/src/Cli.ts"

/** Asks the operating system for a free TCP port on 127.0.0.1. */
export const freePort: Effect.Effect<number> = Effect.promise(
  () =>
    new Promise<number>((resolve, reject) => {
      const probe = createServer()
      probe.once("error", reject)
      probe.listen(0, "127.0.0.1", () => {
        const address = probe.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        probe.close(() => resolve(port))
      })
    })
)

/** The exit code or signal of a child process that ended. */
export interface ProcessExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A CLI process started by `spawnCli`, with its output so far. */
export interface CliProcess {
  readonly child: ChildProcess
  /** Everything written to stdout so far. */
  readonly stdout: () => string
  /** Everything written to stderr so far. */
  readonly stderr: () => string
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>
}

/**
 * Starts `node --conditions=@tmdb-yearly/source packages/host-node/src/Cli.ts ...args` with Node 24
 * (`process.execPath`) in the repository root, with exactly `env` and PATH as its environment, so that no
 * variable of the test run leaks in. The process is killed with SIGKILL when the scope closes, if it still runs.
 */
export const spawnCli = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>
): Effect.Effect<CliProcess, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, ["--conditions=@tmdb-yearly/source", CLI, ...args], {
        cwd: REPOSITORY_ROOT,
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
      child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      const exited = new Promise<ProcessExit>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal }))
      )
      return { child, stdout: () => stdout, stderr: () => stderr, exited }
    }),
    (cli) =>
      Effect.promise(async () => {
        if (cli.child.exitCode === null && cli.child.signalCode === null) {
          cli.child.kill("SIGKILL")
          await cli.exited
        }
      })
  )

/** Waits for the process to exit, failing the test when it takes longer than `timeoutMillis`. */
export const awaitExit = (cli: CliProcess, timeoutMillis: number): Effect.Effect<ProcessExit> =>
  Effect.promise(() => cli.exited).pipe(
    Effect.timeoutOrElse({
      duration: timeoutMillis,
      orElse: () =>
        Effect.die(
          new Error(
            `The CLI did not exit within ${timeoutMillis} ms.\nstdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`
          )
        )
    })
  )

/**
 * Polls `url` every 200 ms until `accept` returns true for its response, and returns that response's JSON.
 * Fails the test with the process output when `timeoutMillis` passes first or the process exits.
 */
export const pollJson = <A>(
  cli: CliProcess,
  url: string,
  accept: (status: number, body: unknown) => boolean,
  timeoutMillis: number
): Effect.Effect<A> =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMillis
    let last = "no response yet"
    while (Date.now() < deadline) {
      if (cli.child.exitCode !== null || cli.child.signalCode !== null) break
      try {
        const response = await fetch(url)
        const text = await response.text()
        const body: unknown = text === "" ? null : JSON.parse(text)
        if (accept(response.status, body)) return body as A
        last = `${response.status} ${text.slice(0, 200)}`
      } catch (error) {
        last = String(error)
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(
      `Polling ${url} did not succeed (last: ${last}).\nstdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`
    )
  })

/** A `start` process whose first run has finished, and the base URL of its HTTP server. */
export interface RunningHost {
  readonly cli: CliProcess
  /** Such as `http://127.0.0.1:40123`. */
  readonly baseUrl: string
}

/**
 * Starts `start` on a free port of 127.0.0.1 with `env`, and waits at most `timeoutMillis` until `GET /runs`
 * lists a run that is no longer running. The process is killed when the scope closes, if it still runs.
 */
export const startHostAfterFirstRun = (
  env: Readonly<Record<string, string>>,
  timeoutMillis = 60_000
): Effect.Effect<RunningHost, never, Scope.Scope> =>
  Effect.gen(function* () {
    const port = yield* freePort
    const cli = yield* spawnCli(["start"], { ...env, PORT: String(port), HOST: "127.0.0.1" })
    const baseUrl = `http://127.0.0.1:${port}`
    yield* pollJson(
      cli,
      `${baseUrl}/runs`,
      (status, body) =>
        status === 200 &&
        Array.isArray(body) &&
        body.some((run: { readonly outcome?: unknown }) => run.outcome !== "running"),
      timeoutMillis
    )
    return { cli, baseUrl }
  })
