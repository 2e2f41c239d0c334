import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Logger, Option } from "effect"
import { jsonLineLogger, resolveLogFormat } from "../src/Logging.ts"

/** Runs `effect` with `jsonLineLogger` and returns each printed line parsed as JSON. */
const jsonLines = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const capture = Logger.map(jsonLineLogger, (line) => {
      lines.push(line)
    })
    yield* effect.pipe(Effect.provide(Logger.layer([capture])))
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  })

describe("jsonLineLogger", () => {
  it.effect("writes annotations as fields", () =>
    Effect.gen(function* () {
      const [line] = yield* jsonLines(
        Effect.logWarning("Retrying a TMDB page request").pipe(
          Effect.annotateLogs({ run_id: "7d0c6f1e", page: 4, attempt: 1, status: 429 })
        )
      )
      assert.deepStrictEqual(Object.keys(line ?? {}), [
        "timestamp",
        "level",
        "message",
        "run_id",
        "page",
        "attempt",
        "status",
        "fiber_id"
      ])
      assert.strictEqual(line?.["level"], "WARN")
      assert.strictEqual(line?.["message"], "Retrying a TMDB page request")
      assert.strictEqual(line?.["run_id"], "7d0c6f1e")
      assert.strictEqual(line?.["page"], 4)
      assert.match(String(line?.["timestamp"]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    })
  )

  it.effect("keeps a clashing annotation apart", () =>
    Effect.gen(function* () {
      const [line] = yield* jsonLines(Effect.logInfo("Stored").pipe(Effect.annotateLogs({ level: "top" })))
      assert.strictEqual(line?.["level"], "INFO")
      assert.strictEqual(line?.["annotation_level"], "top")
    })
  )

  it.effect("writes the cause as text", () =>
    Effect.gen(function* () {
      const [line] = yield* jsonLines(
        Effect.logError("Scheduled run failed", Cause.fail(new Error("connection refused")))
      )
      assert.strictEqual(line?.["message"], "Scheduled run failed")
      assert.match(String(line?.["cause"]), /^Error: connection refused/)
    })
  )
})

describe("resolveLogFormat", () => {
  it("configured format wins", () => {
    assert.strictEqual(resolveLogFormat(Option.some("json"), true), "json")
    assert.strictEqual(resolveLogFormat(Option.some("pretty"), false), "pretty")
  })

  it("unset is pretty on a terminal only", () => {
    assert.strictEqual(resolveLogFormat(Option.none(), true), "pretty")
    assert.strictEqual(resolveLogFormat(Option.none(), false), "json")
  })
})
