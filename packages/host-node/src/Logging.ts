import { Formatter, Layer, Logger, Option, References } from "effect"
import type { LogLevel } from "effect"
import type { LogFormat } from "./Config.ts"

/** Options of `loggingLayer`. */
export interface LoggingOptions {
  readonly level: LogLevel.LogLevel
  /** The format, or none for `pretty` when the logs go to a terminal and `json` otherwise. */
  readonly format: Option.Option<LogFormat>
  /** Writes logs to stderr, so that stdout carries only the command's output (as `once --json` needs). */
  readonly toStderr: boolean
}

/** Fields that every JSON line has. An annotation with one of these names is written as `annotation_<name>`. */
const FIXED_FIELDS = new Set(["timestamp", "level", "message", "cause", "spans", "fiber_id"])

/**
 * Prints one JSON object per line: `timestamp` (ISO 8601), `level`, `message`, then each log annotation as a
 * field of its own (`run_id`, `delivery_id`, `page` and so on), `cause` when the entry has one, `spans` when
 * there are any, and `fiber_id`. Log collectors can then filter on `run_id` without unpacking a nested object.
 */
export const jsonLineLogger: Logger.Logger<unknown, string> = Logger.map(Logger.formatStructured, (entry) => {
  const line: Record<string, unknown> = { timestamp: entry.timestamp, level: entry.level, message: entry.message }
  for (const [name, value] of Object.entries(entry.annotations)) {
    line[FIXED_FIELDS.has(name) ? `annotation_${name}` : name] = value
  }
  if (entry.cause !== undefined) line["cause"] = entry.cause
  if (Object.keys(entry.spans).length > 0) line["spans"] = entry.spans
  line["fiber_id"] = entry.fiberId
  return Formatter.formatJson(line)
})

/** Picks the log format: the configured one, or else `pretty` on a terminal and `json` otherwise. */
export const resolveLogFormat = (configured: Option.Option<LogFormat>, isTerminal: boolean): LogFormat =>
  Option.getOrElse(configured, () => (isTerminal ? "pretty" : "json"))

/**
 * Builds the host's logger: `pretty` prints readable lines with the annotations below them, and `json` prints
 * one JSON object per line with the annotations as fields (see `jsonLineLogger`). Without a configured format,
 * the output stream decides: `pretty` when it is a terminal, as for `npm start` in a shell, and `json` when it
 * is a pipe or a file, as under Docker or a process manager. Entries below `level` are dropped.
 */
export const loggingLayer = (options: LoggingOptions): Layer.Layer<never> => {
  const stream = options.toStderr ? process.stderr : process.stdout
  const format = resolveLogFormat(options.format, stream.isTTY === true)
  const logger =
    format === "json"
      ? options.toStderr
        ? Logger.withConsoleError(jsonLineLogger)
        : Logger.withConsoleLog(jsonLineLogger)
      : Logger.consolePretty()
  return Layer.mergeAll(
    Logger.layer([logger]),
    Layer.succeed(References.MinimumLogLevel, options.level),
    Layer.succeed(Logger.LogToStderr, options.toStderr)
  )
}
