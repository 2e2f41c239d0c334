// The composition root: the one module that imports live layers and wires them from the configuration.
import { NodeHttpClient } from "@effect/platform-node"
import type { PgClient } from "@effect/sql-pg"
import {
  PgDatabase,
  type PgDatabaseError,
  PgRatingsRepository,
  PgRunLog,
  SNAPSHOT_RECORDED_ON,
  SnapshotSource,
  TmdbHttpSource,
  WebhookPublisher
} from "@tmdb-yearly/adapters"
import { runCycle, WEBHOOK_PATH } from "@tmdb-yearly/core"
import type { CycleResult, PageProgress, RatingsPublisher, StorageError } from "@tmdb-yearly/core"
import { Data, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import type { HttpClient } from "effect/http"
import type { HttpServer } from "effect/http"
import type { SqlClient } from "effect/sql"
import { type HostConfig, DEFAULT_TMDB_BASE_URL } from "./Config.ts"
import { type DatabaseConnectFailed, describeConnectFailure } from "./DatabaseConnectFailed.ts"
import { startEmbeddedPostgres } from "./EmbeddedPostgres.ts"
import { Readiness } from "./Readiness.ts"
import { Scheduler } from "./Scheduler.ts"
import { serverBaseUrl, serverLayer } from "./Server.ts"
import { WebhookSecret } from "./WebhookSecret.ts"

/** Time that shutdown waits for open HTTP requests before it interrupts them. */
const HTTP_SHUTDOWN_TIMEOUT = Duration.seconds(10)

/** The embedded PostgreSQL server did not start. The message gives the reason and how to use another server. */
export class EmbeddedPostgresFailed extends Schema.TaggedError<EmbeddedPostgresFailed>()("EmbeddedPostgresFailed", {
  dataDir: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    const detail = this.detail.endsWith(".") ? this.detail : `${this.detail}.`
    return `Embedded PostgreSQL failed (DATA_DIR=${this.dataDir}): ${detail} Set DATABASE_URL to use another PostgreSQL server.`
  }
}

/**
 * PostgreSQL at `DATABASE_URL`, or else an embedded server with its data under `DATA_DIR`, so that data
 * survives restarts. The schema is migrated when the layer is built. The embedded server stops after the pool
 * is closed, when the layer is released. A first connection to `DATABASE_URL` that fails becomes a
 * `DatabaseConnectFailed` that names the address and what to check.
 */
const databaseLayer = (
  config: HostConfig
): Layer.Layer<
  PgClient.PgClient | SqlClient.SqlClient,
  PgDatabaseError | DatabaseConnectFailed | EmbeddedPostgresFailed
> =>
  Option.match(config.databaseUrl, {
    onSome: (url) =>
      Layer.effectContext(
        Layer.build(PgDatabase.layer({ url })).pipe(
          Effect.catchTag("SqlError", (error) => Effect.fail(describeConnectFailure(url, error)))
        )
      ),
    onNone: () =>
      Layer.unwrap(
        Effect.gen(function* () {
          yield* Effect.logInfo("DATABASE_URL is not set: starting embedded PostgreSQL").pipe(
            Effect.annotateLogs({ data_dir: config.dataDir })
          )
          const server = yield* Effect.acquireRelease(
            Effect.tryPromise({
              try: () => startEmbeddedPostgres({ dataDir: config.dataDir }),
              catch: (cause) =>
                new EmbeddedPostgresFailed({
                  dataDir: config.dataDir,
                  detail: cause instanceof Error ? (cause.message.split("\n")[0] ?? "") : String(cause)
                })
            }),
            (server) =>
              Effect.tryPromise({
                try: () => server.stop(),
                catch: (cause) => (cause instanceof Error ? cause.message : String(cause))
              }).pipe(
                Effect.andThen(Effect.logInfo("Embedded PostgreSQL stopped")),
                Effect.catch((reason) =>
                  Effect.logWarning("Embedded PostgreSQL did not stop cleanly").pipe(
                    Effect.annotateLogs({ error: reason, pid: server.pid, data_dir: config.dataDir })
                  )
                )
              )
          )
          yield* Effect.logInfo("Embedded PostgreSQL started").pipe(Effect.annotateLogs({ port: server.port }))
          return PgDatabase.layer({ url: Redacted.make(server.url) })
        })
      )
  })

/** The stores on PostgreSQL: the receiver's deliveries, the job's run log and the readiness check. */
const storesLayer = (config: HostConfig) =>
  Layer.mergeAll(PgRatingsRepository.layer, PgRunLog.layer, Readiness.layerSql).pipe(
    Layer.provide(databaseLayer(config))
  )

/**
 * TMDB over HTTP when a credential is set, or else the recorded snapshot, with a warning that the data is not
 * live.
 */
const sourceLayer = (config: HostConfig) =>
  Option.match(config.tmdbCredential, {
    onSome: (credential) =>
      Layer.merge(
        TmdbHttpSource.layer({
          baseUrl: config.tmdbBaseUrl,
          credential,
          language: config.tmdbLanguage,
          region: Option.getOrUndefined(config.tmdbRegion)
        }).pipe(Layer.provide(NodeHttpClient.layerUndici)),
        Layer.effectDiscard(
          Effect.logInfo("Reading TMDB's top-rated list over HTTP").pipe(
            Effect.annotateLogs({ base_url: config.tmdbBaseUrl, credential: credential._tag }),
            Effect.andThen(
              config.tmdbApiKeyUnused
                ? Effect.logWarning("TMDB_API_KEY is set but unused, because TMDB_ACCESS_TOKEN is used")
                : Effect.void
            )
          )
        )
      ),
    onNone: () =>
      Layer.merge(
        SnapshotSource.layer,
        Layer.effectDiscard(
          Effect.logWarning(
            `No TMDB credential is set (TMDB_API_KEY or TMDB_ACCESS_TOKEN), so every run reads the snapshot recorded on ${SNAPSHOT_RECORDED_ON}, not live data.`
          ).pipe(
            Effect.andThen(
              config.tmdbBaseUrl === DEFAULT_TMDB_BASE_URL
                ? Effect.void
                : Effect.logWarning("TMDB_BASE_URL is set but unused, because no TMDB credential is set")
            )
          )
        )
      )
  })

/** Removes a user name and password from a URL before it is logged. */
const withoutCredentials = (url: string): string => {
  const parsed = new URL(url)
  parsed.username = ""
  parsed.password = ""
  return parsed.toString()
}

const publisherTo = (url: string) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const secret = yield* WebhookSecret
      yield* Effect.logInfo("Publishing yearly tables to the webhook").pipe(
        Effect.annotateLogs({ webhook_url: withoutCredentials(url) })
      )
      return WebhookPublisher.layer({ url, secret })
    })
  )

/** The signed publisher, posting to `WEBHOOK_URL` or else to this process's own webhook route. */
const publisherLayer = (
  config: HostConfig
): Layer.Layer<RatingsPublisher, never, WebhookSecret | HttpClient.HttpClient | HttpServer.HttpServer> =>
  Option.match(config.webhookUrl, {
    onSome: publisherTo,
    onNone: () => Layer.unwrap(Effect.map(serverBaseUrl, (base) => publisherTo(`${base}${WEBHOOK_PATH}`)))
  })

/**
 * Warns at start-up when any client that reaches the server can start runs: `ADMIN_TOKEN` is unset and `HOST`
 * is not a loopback address.
 */
const warnAboutOpenRunEndpoint = (config: HostConfig) =>
  Option.isNone(config.adminToken) && !/^(127\.|::1$|localhost$)/.test(config.host)
    ? Layer.effectDiscard(
        Effect.logWarning("ADMIN_TOKEN is not set, so any client that reaches this server can start runs").pipe(
          Effect.annotateLogs({ host: config.host })
        )
      )
    : Layer.empty

/** Logs the start of the shutdown. It is built last, so its finaliser is the first to run. */
const announceShutdown = Layer.effectDiscard(Effect.addFinalizer(() => Effect.logInfo("Shutting down")))

/**
 * Builds the whole service of `start`: the HTTP server on `HOST:PORT`, the stores, and the scheduler, whose
 * first run starts at once. The layers are built in dependency order and released in reverse. At shutdown the
 * scheduler stops first, because a run in progress may still publish to this server. Then the HTTP server
 * drains, the pool closes and embedded PostgreSQL stops.
 */
export const serviceLayer = (config: HostConfig) => {
  const scheduler = Scheduler.layer({
    interval: config.jobInterval,
    cycle: { pages: config.tmdbPages, concurrency: config.tmdbConcurrency, decimals: config.voteAverageDecimals }
  })
  const server = serverLayer({
    port: config.port,
    host: config.host,
    gracefulShutdownTimeout: HTTP_SHUTDOWN_TIMEOUT,
    adminToken: config.adminToken,
    voteAverageDecimals: config.voteAverageDecimals
  })
  const service = scheduler.pipe(
    Layer.provide(publisherLayer(config)),
    Layer.provide(sourceLayer(config)),
    Layer.provideMerge(server),
    Layer.provideMerge(storesLayer(config)),
    Layer.provideMerge(WebhookSecret.layer(config.webhookSecret)),
    Layer.provide(NodeHttpClient.layerUndici)
  )
  return announceShutdown.pipe(Layer.provideMerge(service), Layer.merge(warnAboutOpenRunEndpoint(config)))
}

/** A layer of `once` failed to build, such as the database, so no run started. `cause` is the layer's error. */
export class OnceStartupFailed extends Data.TaggedError("OnceStartupFailed")<{ readonly cause: unknown }> {}

/**
 * Runs one cycle of the job and returns its result, for `once`. Without `WEBHOOK_URL` it serves its own
 * webhook on a free port of 127.0.0.1 for the length of the cycle. `onPageRead` is called after each page.
 * Fails with `OnceStartupFailed` when the layers do not build, and with `StorageError` when the run log fails.
 */
export const runOnce = (
  config: HostConfig,
  onPageRead: (progress: PageProgress) => Effect.Effect<void>
): Effect.Effect<CycleResult, StorageError | OnceStartupFailed> =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(onceLayer(config)).pipe(
        Effect.mapError((cause) => new OnceStartupFailed({ cause }))
      )
      return yield* runCycle({
        pages: config.tmdbPages,
        concurrency: config.tmdbConcurrency,
        decimals: config.voteAverageDecimals,
        onPageRead
      }).pipe(Effect.provideContext(context))
    })
  )

const onceLayer = (config: HostConfig) => {
  const base = Layer.mergeAll(storesLayer(config), WebhookSecret.layer(config.webhookSecret))
  const ownWebhook = serverLayer({
    port: 0,
    host: "127.0.0.1",
    gracefulShutdownTimeout: HTTP_SHUTDOWN_TIMEOUT,
    adminToken: config.adminToken,
    voteAverageDecimals: config.voteAverageDecimals
  })
  const publisher = Option.match(config.webhookUrl, {
    onSome: (url) => publisherTo(url).pipe(Layer.provide(NodeHttpClient.layerUndici)),
    onNone: () => publisherLayer(config).pipe(Layer.provideMerge(ownWebhook), Layer.provide(NodeHttpClient.layerUndici))
  })
  return Layer.mergeAll(publisher, sourceLayer(config)).pipe(Layer.provideMerge(base))
}
