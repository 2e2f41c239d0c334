// Times the job's CPU-bound steps on the top-rated list recorded on 2026-02-17, with no network and no
// database: aggregating pages 1 to 500, one in-memory cycle over 500 pages, and signing and verifying a
// webhook body of all 113 years. Prints the median and the fastest of several rounds for each.
//
//   npm run bench
import { SnapshotSource } from "@tmdb-yearly/adapters"
import {
  aggregate,
  collectPages,
  generateWebhookSecret,
  RatingsPublisher,
  runCycle,
  RunLog,
  signWebhook,
  verifyWebhook,
  YearlyRatingsPayload
} from "@tmdb-yearly/core"
import { Console, Effect, Layer, Logger, Schema } from "effect"

const ROUNDS = 15

/** Runs `task` ROUNDS times after one warm-up round and returns the sorted durations in milliseconds. */
const measure = <A, E, R>(task: Effect.Effect<A, E, R>): Effect.Effect<ReadonlyArray<number>, E, R> =>
  Effect.gen(function* () {
    yield* task
    const durations: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) {
      const start = performance.now()
      yield* task
      durations.push(performance.now() - start)
    }
    return durations.sort((left, right) => left - right)
  })

const report = (name: string, durations: ReadonlyArray<number>) =>
  Console.log(
    `${name.padEnd(48)} median ${(durations[Math.floor(durations.length / 2)] ?? 0).toFixed(2).padStart(8)} ms` +
      `   fastest ${(durations[0] ?? 0).toFixed(2).padStart(8)} ms`
  )

const program = Effect.gen(function* () {
  const { pages } = yield* collectPages({ pages: 500, concurrency: 4 })

  yield* report(
    "aggregate 500 pages (10,000 movies)",
    yield* measure(Effect.sync(() => aggregate(pages, { decimals: 3 })))
  )
  yield* report("in-memory cycle over 500 pages", yield* measure(runCycle({ pages: 500, concurrency: 4, decimals: 1 })))

  const secret = yield* generateWebhookSecret
  const rows = aggregate(pages, { decimals: 1 }).rows
  const body = new TextEncoder().encode(JSON.stringify(Schema.encodeSync(YearlyRatingsPayload)(rows)))
  const signAndVerify = Effect.gen(function* () {
    const timestamp = Math.floor(Date.now() / 1000)
    const signature = yield* signWebhook({ secret, id: "msg_bench", timestamp, body })
    const headers = {
      "webhook-id": "msg_bench",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature
    }
    yield* verifyWebhook({ secret, headers, body })
  })
  yield* report(`sign and verify a ${body.length}-byte body (113 years)`, yield* measure(signAndVerify))
})

const InMemory = Layer.mergeAll(SnapshotSource.layer, RatingsPublisher.layerMemory, RunLog.layerMemory)

await Effect.runPromise(
  program.pipe(
    Effect.provide(InMemory),
    // The cycle logs two lines per run, which would mix with the numbers and slow the rounds.
    Effect.provideService(Logger.CurrentLoggers, new Set())
  )
)
