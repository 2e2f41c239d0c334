// The command-line entry point: `start` serves, `once [--json]` runs one cycle. Run it with
// `node --conditions=@tmdb-yearly/source packages/host-node/src/Cli.ts <command>`, as the root npm scripts do.
import { NodeRuntime } from "@effect/platform-node"
import { YearlyRatingsPayload } from "@tmdb-yearly/core"
import type { PageProgress } from "@tmdb-yearly/core"
import { Cause, Effect, Exit, Layer, Option, Schema } from "effect"
import type { Runtime } from "effect"
import { parseCliArguments, USAGE } from "./CliArguments.ts"
import { type HostConfig, loadHostConfig } from "./Config.ts"
import { loggingLayer } from "./Logging.ts"
import { runOnce, serviceLayer } from "./Main.ts"
import { formatProgress, formatRunFailure, formatRunSummary, formatYearlyTable } from "./OnceOutput.ts"
import type { WireRow } from "./OnceOutput.ts"

/** Exit status of a run that failed or a start-up that failed. */
const EXIT_FAILURE = 1
/** Exit status of a command line that the CLI does not accept. */
const EXIT_USAGE = 2
/** Exit status of a process stopped by SIGINT or SIGTERM, as shells report it for SIGINT. */
const EXIT_INTERRUPTED = 130

const writeOut = (text: string) => Effect.sync(() => process.stdout.write(`${text}\n`))
const writeError = (text: string) => Effect.sync(() => process.stderr.write(`${text}\n`))

/**
 * Returns the first line of an error's message, so that a failure prints as one line. An error with an empty
 * message, such as the server's `ServeError`, is described by its cause.
 */
const firstLine = (error: unknown): string => {
  let message = error instanceof Error ? error.message : String(error)
  if (message === "" && error instanceof Error && error.cause !== undefined) return firstLine(error.cause)
  if (message === "" && error instanceof Error) message = error.name
  return message.split("\n")[0] ?? message
}

/** Reads the configuration, or prints the invalid variable and stops with exit status 1. */
const readConfig = loadHostConfig.pipe(
  Effect.tapError((error) => writeError(`Configuration error: ${error.message}`)),
  Effect.mapError(() => EXIT_FAILURE)
)

/**
 * Logs a start-up failure and prints it as one line on stderr, then returns exit status 1. An expected
 * failure, such as a database that cannot be reached, is logged by its message. A defect is logged with its
 * stack trace, because it is a bug.
 */
const reportStartupFailure = (cause: Cause.Cause<unknown>): Effect.Effect<number> => {
  const error = Cause.findErrorOption(cause)
  const line = `Start-up failed: ${firstLine(Option.isSome(error) ? error.value : Cause.squash(cause))}`
  const log = Option.isSome(error)
    ? Effect.logError("Start-up failed").pipe(Effect.annotateLogs({ error: firstLine(error.value) }))
    : Effect.logError("Start-up failed", cause)
  return log.pipe(Effect.andThen(writeError(line)), Effect.as(EXIT_FAILURE))
}

/**
 * Serves until SIGTERM or SIGINT. Returns 1 when the start-up fails. The signal interrupts this effect, and
 * the teardown maps that interruption to exit status 0.
 */
const start = (config: HostConfig): Effect.Effect<number> =>
  Layer.launch(serviceLayer(config)).pipe(
    Effect.onInterrupt(() => Effect.logInfo("Shutdown complete")),
    Effect.as(0),
    Effect.catchCause((cause) => (Cause.hasInterruptsOnly(cause) ? Effect.interrupt : reportStartupFailure(cause))),
    Effect.provide(loggingLayer({ level: config.logLevel, format: config.logFormat, toStderr: false }))
  )

/** Shows page progress on one updating line of the terminal. Nothing is shown when stderr is not a terminal. */
const progressOnTerminal = (progress: PageProgress): Effect.Effect<void> =>
  Effect.sync(() => {
    if (!process.stderr.isTTY) return
    const end = progress.read === progress.total ? "\n" : ""
    process.stderr.write(`\r${formatProgress(progress)}\x1b[K${end}`)
  })

/**
 * Runs one cycle. Prints the table and a summary, or with `json` only the published JSON array, on stdout.
 * Logs go to stderr. Returns 0 when the run succeeded, and 1 with a one-line reason on stderr otherwise:
 * `Start-up failed: …` when no run started, as when the database cannot be reached, and `Run failed …` after.
 */
const once = (config: HostConfig, json: boolean): Effect.Effect<number> =>
  runOnce(config, progressOnTerminal).pipe(
    Effect.flatMap(({ report, rows }) => {
      if (report.outcome !== "succeeded") {
        return writeError(formatRunFailure(report)).pipe(Effect.as(EXIT_FAILURE))
      }
      const wire = Schema.encodeSync(YearlyRatingsPayload)(rows) as ReadonlyArray<WireRow>
      const output = json ? JSON.stringify(wire) : `${formatYearlyTable(wire)}\n\n${formatRunSummary(report)}`
      return writeOut(output).pipe(Effect.as(0))
    }),
    Effect.catchCause((cause) => {
      if (Cause.hasInterruptsOnly(cause)) return Effect.interrupt
      const error = Cause.findErrorOption(cause)
      if (Option.isSome(error) && error.value._tag === "OnceStartupFailed") {
        return reportStartupFailure(Cause.fail(error.value.cause))
      }
      return Effect.logDebug("Run failed", cause).pipe(
        Effect.andThen(writeError(`Run failed: ${firstLine(Cause.squash(cause))}`)),
        Effect.as(EXIT_FAILURE)
      )
    }),
    Effect.provide(loggingLayer({ level: config.logLevel, format: config.logFormat, toStderr: true }))
  )

const main: Effect.Effect<number> = Effect.gen(function* () {
  const command = parseCliArguments(process.argv.slice(2))
  switch (command._tag) {
    case "Help":
      yield* writeOut(USAGE)
      return 0
    case "UsageError":
      yield* writeError(`${command.reason}\n\n${USAGE}`)
      return EXIT_USAGE
    case "Start":
      return yield* start(yield* readConfig)
    case "Once":
      return yield* once(yield* readConfig, command.json)
  }
}).pipe(Effect.catch((code: number) => Effect.succeed(code)))

/**
 * Exits with the status that `main` returned. An interruption by SIGTERM or SIGINT exits with 0 for `start`,
 * whose shutdown is the normal way to stop it, and with 130 for `once`, whose run did not finish.
 */
const teardown: Runtime.Teardown = (exit, onExit) => {
  const interruptedCode = process.argv[2] === "start" ? 0 : EXIT_INTERRUPTED
  const code = Exit.isSuccess(exit)
    ? (exit.value as number)
    : Cause.hasInterruptsOnly(exit.cause)
      ? interruptedCode
      : EXIT_FAILURE
  process.exitCode = code
  onExit(code)
  // NOTE: a socket that a library left open would keep the process alive after a successful command, so the
  // process exits at the latest one second after the teardown.
  setTimeout(() => process.exit(code), 1000).unref()
}

/**
 * Exits at once with status 130 on a second SIGINT, such as Ctrl+C pressed again while the shutdown waits for a
 * run. `NodeRuntime.runMain` handles the first SIGINT, which starts the graceful shutdown, and ignores later ones.
 * A run cut short this way stays `running` in the run log, as after a crash. The `exit` handler of
 * `EmbeddedPostgres.ts` still sends its fast-shutdown signal to the embedded server.
 */
const exitOnSecondInterrupt = (): void => {
  let interrupts = 0
  process.on("SIGINT", () => {
    interrupts++
    if (interrupts < 2) return
    process.stderr.write("Second interrupt: exiting at once, without waiting for the shutdown to finish\n")
    process.exit(EXIT_INTERRUPTED)
  })
}

exitOnSecondInterrupt()
NodeRuntime.runMain(main, { teardown })
