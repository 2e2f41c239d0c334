import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Option, Redacted } from "effect"
import { type HostConfig, type InvalidConfig, loadHostConfig } from "../src/Config.ts"

const load = (env: Record<string, string>): Effect.Effect<HostConfig, InvalidConfig> =>
  loadHostConfig.pipe(Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })))

const loadError = (env: Record<string, string>) => Effect.flip(load(env))

describe("loadHostConfig", () => {
  it.effect("defaults when nothing is set", () =>
    Effect.gen(function* () {
      const config = yield* load({})
      assert.isTrue(Option.isNone(config.tmdbCredential))
      assert.strictEqual(config.tmdbBaseUrl, "https://api.themoviedb.org/3")
      assert.strictEqual(config.tmdbPages, 10)
      assert.strictEqual(config.tmdbLanguage, "en-US")
      assert.isTrue(Option.isNone(config.tmdbRegion))
      assert.strictEqual(config.tmdbConcurrency, 4)
      assert.strictEqual(Duration.toMillis(config.jobInterval), 30 * 60 * 1000)
      assert.strictEqual(config.port, 3000)
      assert.strictEqual(config.host, "127.0.0.1")
      assert.isTrue(Option.isNone(config.webhookUrl))
      assert.isTrue(Option.isNone(config.webhookSecret))
      assert.isTrue(Option.isNone(config.databaseUrl))
      assert.strictEqual(config.dataDir, ".data")
      assert.strictEqual(config.voteAverageDecimals, 1)
      assert.strictEqual(config.logLevel, "Info")
      assert.isTrue(Option.isNone(config.logFormat))
      assert.isTrue(Option.isNone(config.adminToken))
    })
  )

  it.effect("reads every variable", () =>
    Effect.gen(function* () {
      const config = yield* load({
        TMDB_API_KEY: "abc123",
        TMDB_BASE_URL: "http://127.0.0.1:4010/3/",
        TMDB_PAGES: "500",
        TMDB_LANGUAGE: "ko-KR",
        TMDB_REGION: "KR",
        TMDB_CONCURRENCY: "8",
        JOB_INTERVAL: "2 hours",
        PORT: "8080",
        HOST: "0.0.0.0",
        WEBHOOK_URL: "http://127.0.0.1:9000/hook",
        WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        DATABASE_URL: "postgres://user:pw@127.0.0.1:5432/db",
        DATA_DIR: "/tmp/data",
        VOTE_AVERAGE_DECIMALS: "3",
        LOG_LEVEL: "debug",
        LOG_FORMAT: "JSON",
        ADMIN_TOKEN: "s3cret-Token_1.0~a+b/c=="
      })
      const credential = Option.getOrThrow(config.tmdbCredential)
      assert.strictEqual(credential._tag, "ApiKey")
      assert.strictEqual(credential._tag === "ApiKey" ? Redacted.value(credential.key) : "", "abc123")
      assert.strictEqual(config.tmdbBaseUrl, "http://127.0.0.1:4010/3")
      assert.strictEqual(config.tmdbPages, 500)
      assert.strictEqual(config.tmdbLanguage, "ko-KR")
      assert.deepStrictEqual(config.tmdbRegion, Option.some("KR"))
      assert.strictEqual(config.tmdbConcurrency, 8)
      assert.strictEqual(Duration.toMillis(config.jobInterval), 2 * 60 * 60 * 1000)
      assert.strictEqual(config.port, 8080)
      assert.strictEqual(config.host, "0.0.0.0")
      assert.deepStrictEqual(config.webhookUrl, Option.some("http://127.0.0.1:9000/hook"))
      assert.strictEqual(
        Redacted.value(Option.getOrThrow(config.webhookSecret)),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
      )
      assert.strictEqual(Redacted.value(Option.getOrThrow(config.databaseUrl)), "postgres://user:pw@127.0.0.1:5432/db")
      assert.strictEqual(config.dataDir, "/tmp/data")
      assert.strictEqual(config.voteAverageDecimals, 3)
      assert.strictEqual(config.logLevel, "Debug")
      assert.deepStrictEqual(config.logFormat, Option.some("json"))
      assert.strictEqual(Redacted.value(Option.getOrThrow(config.adminToken)), "s3cret-Token_1.0~a+b/c==")
    })
  )

  it.effect("access token wins over API key", () =>
    Effect.gen(function* () {
      const config = yield* load({ TMDB_API_KEY: "abc", TMDB_ACCESS_TOKEN: "eyJ.token" })
      assert.strictEqual(Option.getOrThrow(config.tmdbCredential)._tag, "AccessToken")
      assert.isTrue(config.tmdbApiKeyUnused)
    })
  )

  it.effect("API key alone is used", () =>
    Effect.gen(function* () {
      assert.isFalse((yield* load({ TMDB_API_KEY: "abc" })).tmdbApiKeyUnused)
      assert.isFalse((yield* load({ TMDB_ACCESS_TOKEN: "eyJ.token" })).tmdbApiKeyUnused)
      assert.isFalse((yield* load({})).tmdbApiKeyUnused)
    })
  )

  it.effect("malformed API key is rejected beside a token", () =>
    Effect.gen(function* () {
      const error = yield* loadError({ TMDB_API_KEY: "key with spaces", TMDB_ACCESS_TOKEN: "eyJ.token" })
      assert.strictEqual(error.variable, "TMDB_API_KEY")
      assert.include(error.message, "letters and digits only")
    })
  )

  it.effect("empty values count as unset", () =>
    Effect.gen(function* () {
      const config = yield* load({ TMDB_API_KEY: "", TMDB_PAGES: "", PORT: "  " })
      assert.isTrue(Option.isNone(config.tmdbCredential))
      assert.strictEqual(config.tmdbPages, 10)
      assert.strictEqual(config.port, 3000)
    })
  )

  const rejected: ReadonlyArray<readonly [string, string, string]> = [
    ["TMDB_PAGES", "5", "an integer from 10 to 500"],
    ["TMDB_PAGES", "501", "an integer from 10 to 500"],
    ["TMDB_PAGES", "ten", "an integer from 10 to 500"],
    ["TMDB_CONCURRENCY", "0", "an integer from 1 to 20"],
    ["JOB_INTERVAL", "banana", "of at least 1 second"],
    ["JOB_INTERVAL", "10 millis", "of at least 1 second"],
    ["PORT", "99999", "an integer from 1 to 65535"],
    ["PORT", "-1", "an integer from 1 to 65535"],
    ["VOTE_AVERAGE_DECIMALS", "4", "an integer from 0 to 3"],
    ["TMDB_BASE_URL", "ftp://example.test", "http:// or https:// URL"],
    ["TMDB_LANGUAGE", "english", "ISO 639-1"],
    ["TMDB_REGION", "usa", "ISO 3166-1"],
    ["WEBHOOK_URL", "not a url", "http:// or https:// URL"],
    ["LOG_LEVEL", "loud", "one of trace, debug"],
    ["LOG_FORMAT", "xml", "pretty or json"],
    ["HOST", "bad host", "host name or IP address"]
  ]
  for (const [variable, value, expected] of rejected) {
    it.effect(`${variable}=${value} is rejected`, () =>
      Effect.gen(function* () {
        const error = yield* loadError({ [variable]: value })
        assert.strictEqual(error.variable, variable)
        assert.include(error.message, `${variable}=${JSON.stringify(value)}`)
        assert.include(error.message, expected)
      })
    )
  }

  it.effect("ADMIN_TOKEN under 16 characters rejected", () =>
    Effect.gen(function* () {
      const short = yield* loadError({ ADMIN_TOKEN: "abcdefghijklmno" })
      const config = yield* load({ ADMIN_TOKEN: "abcdefghijklmnop" })

      assert.strictEqual(short.variable, "ADMIN_TOKEN")
      assert.include(short.message, "at least 16 letters")
      assert.notInclude(short.message, "abcdefghijklmno")
      assert.strictEqual(Redacted.value(Option.getOrThrow(config.adminToken)), "abcdefghijklmnop")
    })
  )

  it.effect("secrets stay out of the message", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["WEBHOOK_SECRET", "not-a-whsec-secret"],
        ["DATABASE_URL", "mysql://user:hunter2@db/x"],
        ["TMDB_API_KEY", "key with spaces hunter2"],
        ["ADMIN_TOKEN", "token with spaces hunter2"]
      ]
      for (const [variable, value] of cases) {
        const error = yield* loadError({ [variable]: value })
        assert.strictEqual(error.variable, variable)
        assert.notInclude(error.message, value)
        assert.include(error.message, "redacted")
      }
    })
  )

  /** A `whsec_` secret whose key is `bytes` bytes long. */
  const secretOfBytes = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString("base64")}`

  it.effect("WEBHOOK_SECRET key of 24 to 64 bytes", () =>
    Effect.gen(function* () {
      for (const bytes of [24, 32, 64]) {
        const config = yield* load({ WEBHOOK_SECRET: secretOfBytes(bytes) })
        assert.strictEqual(Redacted.value(Option.getOrThrow(config.webhookSecret)), secretOfBytes(bytes), `${bytes}`)
      }
    })
  )

  it.effect("WEBHOOK_SECRET key size outside 24 to 64 bytes is rejected", () =>
    Effect.gen(function* () {
      for (const [secret, bytes] of [
        ["whsec_", 0],
        ["whsec_AAAA", 3],
        [secretOfBytes(23), 23],
        [secretOfBytes(65), 65]
      ] as const) {
        const error = yield* loadError({ WEBHOOK_SECRET: secret })
        assert.strictEqual(error.variable, "WEBHOOK_SECRET")
        assert.strictEqual(error.value, `<redacted, ${secret.length} characters>`)
        assert.include(error.message, "a random key of 24 to 64 bytes")
        assert.include(error.message, `(this key has ${bytes} bytes)`)
        if (bytes > 0) assert.notInclude(error.message, secret)
      }
    })
  )

  it.effect("WEBHOOK_SECRET that is not whsec_ and base64 is rejected", () =>
    Effect.gen(function* () {
      for (const secret of ["whsec_not base64!", "whsec_AAA", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]) {
        const error = yield* loadError({ WEBHOOK_SECRET: secret })
        assert.strictEqual(error.variable, "WEBHOOK_SECRET", secret)
        assert.include(error.message, "a random key of 24 to 64 bytes", secret)
        assert.notInclude(error.message, "this key has", secret)
      }
    })
  )
})
