import { Layer, Logger, References } from "effect"
import type { LogLevel } from "effect"
import type { LogFormat } from "./Config.ts"

/** Options of `loggingLayer`. */
export interface LoggingOptions {
  readonly level: LogLevel.LogLevel
  readonly format: LogFormat
  /** Writes logs to stderr, so that stdout carries only the command's output (as `once --json` needs). */
  readonly toStderr: boolean
}

/**
 * Builds the host's logger: `pretty` prints readable lines with the annotations below them, and `json` prints one JSON
 * object per line with the annotations as fields. Entries below `level` are dropped.
 */
export const loggingLayer = (options: LoggingOptions): Layer.Layer<never> => {
  const logger =
    options.format === "json"
      ? options.toStderr
        ? Logger.withConsoleError(Logger.formatJson)
        : Logger.consoleJson
      : Logger.consolePretty()
  return Layer.mergeAll(
    Logger.layer([logger]),
    Layer.succeed(References.MinimumLogLevel, options.level),
    Layer.succeed(Logger.LogToStderr, options.toStderr)
  )
}
