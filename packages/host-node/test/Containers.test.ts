import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = fileURLToPath(new URL("../../../", import.meta.url))

const hasDockerCompose = spawnSync("docker-compose", ["version"], { encoding: "utf8" }).status === 0
if (!hasDockerCompose) {
  console.warn(
    "docker-compose is not installed, so the docker-compose.yml checks are SKIPPED. " +
      "Install it with: apt-get update && apt-get install -y docker-compose"
  )
}

/** Runs `docker-compose --env-file <envFile> config` in the repository, without the caller's variables. */
const composeConfig = (envFile: string) =>
  spawnSync("docker-compose", ["--env-file", envFile, "config"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }
  })

describe("docker-compose.yml", () => {
  it.skipIf(!hasDockerCompose)("config validates with .env.example", () => {
    const result = composeConfig(join(ROOT, ".env.example"))
    assert.strictEqual(result.status, 0, result.stderr)
    const config = result.stdout
    assert.match(config, /image: postgres:18/)
    assert.match(config, /condition: service_healthy/)
    assert.match(config, /pg_isready/)
    assert.match(config, /DATABASE_URL: postgres:\/\/tmdb_yearly:change-me@db:5432\/tmdb_yearly/)
    assert.match(config, /HOST: 0\.0\.0\.0/)
  })

  it.skipIf(!hasDockerCompose)("config requires POSTGRES_PASSWORD", () => {
    const emptyEnvFile = join(mkdtempSync(join(tmpdir(), "tmdb-yearly-compose-")), "empty.env")
    writeFileSync(emptyEnvFile, "")
    const result = composeConfig(emptyEnvFile)
    assert.notStrictEqual(result.status, 0)
    assert.include(result.stderr, "POSTGRES_PASSWORD")
  })
})

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8")
  const instructions = dockerfile.split("\n").filter((line) => /^[A-Z]+ /.test(line))

  it("builds in two node:24-slim stages", () => {
    const stages = instructions.filter((line) => line.startsWith("FROM "))
    assert.deepStrictEqual(stages, ["FROM node:24-slim AS dependencies", "FROM node:24-slim"])
  })

  it("installs production dependencies only", () => {
    const install = instructions.find((line) => line.startsWith("RUN npm ci"))
    assert.isDefined(install)
    assert.include(install, "--omit=dev")
  })

  it("runs as the non-root node user", () => {
    const users = instructions.filter((line) => line.startsWith("USER "))
    assert.deepStrictEqual(users, ["USER node"])
  })
})
