import { decodeWebhookSecretKey, MAX_WEBHOOK_SECRET_BYTES, MIN_WEBHOOK_SECRET_BYTES } from "@tmdb-yearly/core"
import { Config, Duration, Effect, Option, Redacted, Schema } from "effect"
import type { LogLevel } from "effect"
import { BEARER_TOKEN_PATTERN } from "./AdminToken.ts"

/** A configuration variable whose value is not allowed. The message names the variable, the value and the rule. */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  variable: Schema.String,
  value: Schema.String,
  expected: Schema.String
}) {
  override get message(): string {
    return `Invalid ${this.variable}=${this.value}: expected ${this.expected}`
  }
}

/** The TMDB credential: a v3 API key (sent as the `api_key` query) or a v4 read access token (sent as Bearer). */
export type TmdbCredential =
  | { readonly _tag: "ApiKey"; readonly key: Redacted.Redacted<string> }
  | { readonly _tag: "AccessToken"; readonly token: Redacted.Redacted<string> }

/** The output format of the logs: `pretty` for people, `json` for one object per line. */
export type LogFormat = "pretty" | "json"

/** The whole configuration of the host, read from the environment by `loadHostConfig`. */
export interface HostConfig {
  /** Unset when neither `TMDB_ACCESS_TOKEN` nor `TMDB_API_KEY` is set: the recorded snapshot is read then. */
  readonly tmdbCredential: Option.Option<TmdbCredential>
  /** True when `TMDB_API_KEY` is set but unused, because `TMDB_ACCESS_TOKEN` is set as well. */
  readonly tmdbApiKeyUnused: boolean
  readonly tmdbBaseUrl: string
  readonly tmdbPages: number
  readonly tmdbLanguage: string
  readonly tmdbRegion: Option.Option<string>
  readonly tmdbConcurrency: number
  readonly jobInterval: Duration.Duration
  readonly port: number
  readonly host: string
  /** Unset means this host's own `/webhooks/yearly-ratings`. */
  readonly webhookUrl: Option.Option<string>
  /** Unset means a secret is generated at start-up. */
  readonly webhookSecret: Option.Option<Redacted.Redacted<string>>
  /** Unset means an embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string
  readonly voteAverageDecimals: number
  readonly logLevel: LogLevel.LogLevel
  /** Unset means `pretty` when the logs go to a terminal and `json` otherwise. */
  readonly logFormat: Option.Option<LogFormat>
  /** Unset means `POST /runs` needs no token. */
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
}

/** Default TMDB API root. The host only sends requests there when a TMDB credential is set. */
export const DEFAULT_TMDB_BASE_URL = "https://api.themoviedb.org/3"
export const MIN_TMDB_PAGES = 10
export const MAX_TMDB_PAGES = 500
export const MAX_TMDB_CONCURRENCY = 20
export const MIN_JOB_INTERVAL = Duration.seconds(1)
export const DEFAULT_PORT = 3000
export const DEFAULT_HOST = "127.0.0.1"

/** Reads a variable as text. An empty value counts as unset, as it does in a `.env` file line `NAME=`. */
const readVariable = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.String(name)).pipe(Effect.map(Option.filter((value) => value.trim() !== "")), Effect.orDie)

const invalid = (variable: string, value: string, expected: string) =>
  Effect.fail(new InvalidConfig({ variable, value: JSON.stringify(value), expected }))

/** Like `invalid`, for a secret: the message shows the length of the value, never the value. */
const invalidSecret = (variable: string, value: string, expected: string) =>
  Effect.fail(new InvalidConfig({ variable, value: `<redacted, ${value.length} characters>`, expected }))

const parseInteger = (variable: string, fallback: number, minimum: number, maximum: number) =>
  Effect.flatMap(readVariable(variable), (value) => {
    if (Option.isNone(value)) return Effect.succeed(fallback)
    const text = value.value.trim()
    const number = Number(text)
    if (!/^[0-9]+$/.test(text) || number < minimum || number > maximum) {
      return invalid(variable, value.value, `an integer from ${minimum} to ${maximum}`)
    }
    return Effect.succeed(number)
  })

const parseHttpUrl = (variable: string, text: string, options: { readonly secret: boolean }) => {
  const expected = "an absolute http:// or https:// URL"
  const fail = options.secret ? invalidSecret : invalid
  if (!URL.canParse(text)) return fail(variable, text, expected)
  const url = new URL(text)
  if (url.protocol !== "http:" && url.protocol !== "https:") return fail(variable, text, expected)
  return Effect.succeed(text)
}

// The key is checked even when the token is set, so that a malformed key is reported rather than ignored.
const tmdbCredentials = Effect.gen(function* () {
  const token = yield* readVariable("TMDB_ACCESS_TOKEN")
  const key = yield* readVariable("TMDB_API_KEY")
  const keyText = Option.map(key, (value) => value.trim())
  if (Option.isSome(keyText) && !/^[A-Za-z0-9]+$/.test(keyText.value)) {
    return yield* invalidSecret("TMDB_API_KEY", keyText.value, "a TMDB v3 API key: letters and digits only")
  }
  // The v4 token is preferred when both are set, because it stays out of request URLs.
  if (Option.isSome(token)) {
    return {
      credential: Option.some<TmdbCredential>({ _tag: "AccessToken", token: Redacted.make(token.value.trim()) }),
      apiKeyUnused: Option.isSome(keyText)
    }
  }
  return {
    credential: Option.map(keyText, (text): TmdbCredential => ({ _tag: "ApiKey", key: Redacted.make(text) })),
    apiKeyUnused: false
  }
})

const tmdbBaseUrl = Effect.flatMap(readVariable("TMDB_BASE_URL"), (value) =>
  Option.isNone(value)
    ? Effect.succeed(DEFAULT_TMDB_BASE_URL)
    : Effect.map(parseHttpUrl("TMDB_BASE_URL", value.value.trim(), { secret: false }), (url) => url.replace(/\/+$/, ""))
)

const tmdbLanguage = Effect.flatMap(readVariable("TMDB_LANGUAGE"), (value) => {
  if (Option.isNone(value)) return Effect.succeed("en-US")
  const text = value.value.trim()
  if (!/^[a-z]{2}(-[A-Z]{2})?$/.test(text)) {
    return invalid("TMDB_LANGUAGE", value.value, 'an ISO 639-1 language with an optional region, such as "en-US"')
  }
  return Effect.succeed(text)
})

const tmdbRegion = Effect.flatMap(readVariable("TMDB_REGION"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(Option.none<string>())
  const text = value.value.trim()
  if (!/^[A-Z]{2}$/.test(text)) {
    return invalid("TMDB_REGION", value.value, 'an ISO 3166-1 country code in capitals, such as "US"')
  }
  return Effect.succeed(Option.some(text))
})

const jobInterval = Effect.flatMap(readVariable("JOB_INTERVAL"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(Duration.minutes(30))
  const expected = 'a duration such as "30 minutes", "2 hours" or "90 seconds", of at least 1 second'
  const text = value.value.trim()
  if (!/^[0-9]+(\.[0-9]+)?\s+(millis?|seconds?|minutes?|hours?|days?|weeks?)$/.test(text)) {
    return invalid("JOB_INTERVAL", value.value, expected)
  }
  const duration = Duration.fromInput(text as Duration.Input)
  if (Option.isNone(duration) || Duration.isLessThan(duration.value, MIN_JOB_INTERVAL)) {
    return invalid("JOB_INTERVAL", value.value, expected)
  }
  return Effect.succeed(duration.value)
})

const host = Effect.flatMap(readVariable("HOST"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(DEFAULT_HOST)
  const text = value.value.trim()
  if (!/^[A-Za-z0-9.:-]+$/.test(text)) {
    return invalid("HOST", value.value, 'a host name or IP address to listen on, such as "127.0.0.1" or "0.0.0.0"')
  }
  return Effect.succeed(text)
})

const webhookUrl = Effect.flatMap(readVariable("WEBHOOK_URL"), (value) =>
  Option.isNone(value)
    ? Effect.succeed(Option.none<string>())
    : Effect.map(parseHttpUrl("WEBHOOK_URL", value.value.trim(), { secret: false }), Option.some)
)

// The same decoding as the core's signing, plus the key size that Standard Webhooks 1.0.0 specifies.
const webhookSecret = Effect.flatMap(readVariable("WEBHOOK_SECRET"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(Option.none<Redacted.Redacted<string>>())
  const text = value.value.trim()
  const key = decodeWebhookSecretKey(text)
  if (key === undefined || key.length < MIN_WEBHOOK_SECRET_BYTES || key.length > MAX_WEBHOOK_SECRET_BYTES) {
    const size = key === undefined ? "" : ` (this key has ${key.length} bytes)`
    return invalidSecret(
      "WEBHOOK_SECRET",
      text,
      `whsec_ and the padded standard base64 of a random key of ${MIN_WEBHOOK_SECRET_BYTES} to ${MAX_WEBHOOK_SECRET_BYTES} bytes${size}. Generate one with: echo "whsec_$(openssl rand -base64 32)"`
    )
  }
  return Effect.succeed(Option.some(Redacted.make(text)))
})

const databaseUrl = Effect.flatMap(readVariable("DATABASE_URL"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(Option.none<Redacted.Redacted<string>>())
  const text = value.value.trim()
  if (!URL.canParse(text) || !["postgres:", "postgresql:"].includes(new URL(text).protocol)) {
    return invalidSecret("DATABASE_URL", text, "a postgres:// or postgresql:// connection URL")
  }
  return Effect.succeed(Option.some(Redacted.make(text)))
})

const dataDir = Effect.map(readVariable("DATA_DIR"), (value) =>
  Option.getOrElse(
    Option.map(value, (text) => text.trim()),
    () => ".data"
  )
)

const logLevels: Record<string, LogLevel.LogLevel> = {
  all: "All",
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  warning: "Warn",
  error: "Error",
  fatal: "Fatal",
  none: "None"
}

const logLevel = Effect.flatMap(readVariable("LOG_LEVEL"), (value) => {
  if (Option.isNone(value)) return Effect.succeed<LogLevel.LogLevel>("Info")
  const level = logLevels[value.value.trim().toLowerCase()]
  if (level === undefined) {
    return invalid("LOG_LEVEL", value.value, "one of trace, debug, info, warn, error, fatal, all or none")
  }
  return Effect.succeed(level)
})

const logFormat = Effect.flatMap(readVariable("LOG_FORMAT"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(Option.none<LogFormat>())
  const text = value.value.trim().toLowerCase()
  if (text !== "pretty" && text !== "json") return invalid("LOG_FORMAT", value.value, "pretty or json")
  return Effect.succeed(Option.some<LogFormat>(text))
})

// A client sends the token in an `Authorization: Bearer` header, so it must use the characters allowed there.
/** Shortest `ADMIN_TOKEN` accepted, in characters: 16 random hex digits are 64 bits. */
export const MIN_ADMIN_TOKEN_LENGTH = 16

const adminToken = Effect.flatMap(readVariable("ADMIN_TOKEN"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(Option.none<Redacted.Redacted<string>>())
  const text = value.value.trim()
  if (!BEARER_TOKEN_PATTERN.test(text) || text.length < MIN_ADMIN_TOKEN_LENGTH) {
    return invalidSecret(
      "ADMIN_TOKEN",
      text,
      `a bearer token of at least ${MIN_ADMIN_TOKEN_LENGTH} letters, digits and -._~+/, optionally ending in =, such as the output of openssl rand -hex 32`
    )
  }
  return Effect.succeed(Option.some(Redacted.make(text)))
})

/**
 * Reads and checks every variable of the host from the current `ConfigProvider` (the environment by default).
 * An empty value counts as unset. Fails with `InvalidConfig` on the first value that is not allowed.
 */
export const loadHostConfig: Effect.Effect<HostConfig, InvalidConfig> = Effect.gen(function* () {
  const credentials = yield* tmdbCredentials
  return {
    tmdbCredential: credentials.credential,
    tmdbApiKeyUnused: credentials.apiKeyUnused,
    tmdbBaseUrl: yield* tmdbBaseUrl,
    tmdbPages: yield* parseInteger("TMDB_PAGES", MIN_TMDB_PAGES, MIN_TMDB_PAGES, MAX_TMDB_PAGES),
    tmdbLanguage: yield* tmdbLanguage,
    tmdbRegion: yield* tmdbRegion,
    tmdbConcurrency: yield* parseInteger("TMDB_CONCURRENCY", 4, 1, MAX_TMDB_CONCURRENCY),
    jobInterval: yield* jobInterval,
    port: yield* parseInteger("PORT", DEFAULT_PORT, 1, 65535),
    host: yield* host,
    webhookUrl: yield* webhookUrl,
    webhookSecret: yield* webhookSecret,
    databaseUrl: yield* databaseUrl,
    dataDir: yield* dataDir,
    voteAverageDecimals: yield* parseInteger("VOTE_AVERAGE_DECIMALS", 1, 0, 3),
    logLevel: yield* logLevel,
    logFormat: yield* logFormat,
    adminToken: yield* adminToken
  }
})
