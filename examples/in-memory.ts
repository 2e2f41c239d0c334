// Runs one full cycle of the job over pages 1 to 10 of the top-rated list recorded on 2026-02-17, with the
// in-memory publisher and run log, and prints the published JSON array and then the run report. It needs no
// network, database or credential. Logs go to stderr so that stdout holds only the two JSON documents.
//
//   npm run example:in-memory
import { SnapshotSource } from "@tmdb-yearly/adapters"
import {
  DEFAULT_VOTE_AVERAGE_DECIMALS,
  MemoryPublisher,
  RatingsPublisher,
  runCycle,
  RunLog,
  RunReportWire,
  YearlyRatingsPayload
} from "@tmdb-yearly/core"
import { Console, Effect, Layer, Logger, Schema } from "effect"

/** Formats the webhook body as a JSON array with one row per line. */
const formatRows = (rows: ReadonlyArray<unknown>): string =>
  rows.length === 0 ? "[]" : `[\n${rows.map((row) => `  ${JSON.stringify(row)}`).join(",\n")}\n]`

const program = Effect.gen(function* () {
  const { report } = yield* runCycle({ pages: 10, concurrency: 4, decimals: DEFAULT_VOTE_AVERAGE_DECIMALS })
  const deliveries = yield* MemoryPublisher.use((memory) => memory.deliveries)

  for (const delivery of deliveries) {
    yield* Console.log(formatRows(Schema.encodeSync(YearlyRatingsPayload)(delivery.rows)))
  }
  // The wire form is the one that GET /runs returns: snake_case keys and ISO 8601 times.
  yield* Console.log(JSON.stringify(Schema.encodeSync(RunReportWire)(report), null, 2))
  if (report.outcome !== "succeeded") process.exitCode = 1
})

const InMemory = Layer.mergeAll(SnapshotSource.layer, RatingsPublisher.layerMemory, RunLog.layerMemory)

await Effect.runPromise(program.pipe(Effect.provide(InMemory), Effect.provideService(Logger.LogToStderr, true)))
