import { Effect, Layer, Logger, References } from "effect"

/** One captured log line: its level, its message text and its annotations. */
export interface CapturedLog {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/**
 * Builds a logger layer that replaces the default loggers and appends every line to `lines`, so that tests
 * can assert on levels, messages and annotations.
 */
export const captureLogs = (lines: Array<CapturedLog>): Layer.Layer<never> =>
  Logger.layer([
    Logger.make(({ fiber, logLevel, message }) => {
      const parts = Array.isArray(message) ? message : [message]
      lines.push({
        level: logLevel,
        message: parts.map(String).join(" "),
        annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
      })
    })
  ])

/** Runs `effect` with its log lines captured, and returns its result with the lines. */
export const withCapturedLogs = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<readonly [A, ReadonlyArray<CapturedLog>], E, R> =>
  Effect.suspend(() => {
    const lines: Array<CapturedLog> = []
    return effect.pipe(
      Effect.map((value) => [value, lines] as const),
      Effect.provide(captureLogs(lines))
    )
  })
