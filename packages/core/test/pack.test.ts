import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const coreDirectory = fileURLToPath(new URL("..", import.meta.url))
const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url))

/** Lists the files under `directory` whose names end with one of `extensions`, as absolute paths. */
const listFiles = (directory: string, extensions: ReadonlyArray<string>): Array<string> =>
  readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && extensions.some((extension) => entry.name.endsWith(extension)))
    .map((entry) => join(entry.parentPath, entry.name))

// Static imports and re-exports (`from "x"`), side-effect imports (`import "x"`) and dynamic or type
// imports (`import("x")`).
const importSpecifierPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"'\n]+)\1/g

const importSpecifiers = (path: string): Array<string> =>
  [...readFileSync(path, "utf8").matchAll(importSpecifierPattern)].map((match) => match[2] ?? "")

/** Whether `specifier` names the `effect` package or one of its subpath exports, such as `effect/http-api`. */
const isEffect = (specifier: string): boolean => specifier === "effect" || specifier.startsWith("effect/")

const isRelative = (specifier: string): boolean => specifier.startsWith("./") || specifier.startsWith("../")

describe("core imports", () => {
  it("src imports only effect and relative paths", () => {
    const sources = listFiles(join(coreDirectory, "src"), [".ts"])
    assert.isAbove(sources.length, 10)
    for (const path of sources) {
      for (const specifier of importSpecifiers(path)) {
        const where = `${relative(coreDirectory, path)} imports ${specifier}`
        assert.isTrue(isEffect(specifier) || isRelative(specifier), where)
        if (isRelative(specifier)) {
          assert.isTrue(specifier.endsWith(".ts"), where)
          assert.isTrue(existsSync(join(dirname(path), specifier)), `${where}, which does not exist`)
        }
      }
    }
  })

  it("finds every kind of import", () => {
    const sample = [
      'import { Effect } from "effect"',
      'import type { Foo } from "./Foo.ts"',
      'export * from "./Bar.ts"',
      'import "./side-effect.ts"',
      'type Cause = import("effect/Cause").Cause<never>',
      "import { readFileSync } from 'node:fs'"
    ].join("\n")
    const specifiers = [...sample.matchAll(importSpecifierPattern)].map((match) => match[2])
    assert.deepStrictEqual(specifiers, [
      "effect",
      "./Foo.ts",
      "./Bar.ts",
      "./side-effect.ts",
      "effect/Cause",
      "node:fs"
    ])
  })
})

// The package is built, packed and installed in a temporary directory, so that the test does not touch
// packages/core/dist while other test runs may read it.
describe("packed core", () => {
  let workDirectory = ""
  let stagedCore = ""
  let consumer = ""

  /**
   * Runs a command with Node 24 and the repository's tools first on the PATH. The package, lifecycle and
   * local-prefix variables of an enclosing `npm test` are removed, because npm_config_local_prefix would make
   * the nested npm work on the repository root. Registry, cache and certificate settings are kept.
   */
  const run = (command: string, args: ReadonlyArray<string>, cwd: string): string => {
    const environment: NodeJS.ProcessEnv = {}
    for (const [name, value] of Object.entries(process.env)) {
      if (name.startsWith("npm_package_") || name.startsWith("npm_lifecycle_")) continue
      if (name === "npm_config_local_prefix" || name === "npm_command") continue
      environment[name] = value
    }
    const binDirectories = [dirname(process.execPath), join(repositoryRoot, "node_modules", ".bin")]
    environment["PATH"] = [...binDirectories, process.env["PATH"] ?? ""].join(delimiter)
    return execFileSync(command, args, { cwd, env: environment, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  }

  beforeAll(() => {
    workDirectory = mkdtempSync(join(tmpdir(), "tmdb-yearly-pack-"))

    // A copy of the package at the same depth, so that tsconfig.build.json finds ../../tsconfig.base.json,
    // with the repository's node_modules for effect and TypeScript.
    stagedCore = join(workDirectory, "packages", "core")
    mkdirSync(stagedCore, { recursive: true })
    for (const name of ["package.json", "tsconfig.build.json", "scripts", "src"]) {
      cpSync(join(coreDirectory, name), join(stagedCore, name), { recursive: true })
    }
    cpSync(join(repositoryRoot, "tsconfig.base.json"), join(workDirectory, "tsconfig.base.json"))
    symlinkSync(join(repositoryRoot, "node_modules"), join(workDirectory, "node_modules"))
    run("npm", ["run", "build"], stagedCore)

    const packDirectory = join(workDirectory, "pack")
    mkdirSync(packDirectory)
    const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", packDirectory], stagedCore))
    const tarball = join(packDirectory, packed[0].filename)

    consumer = join(workDirectory, "consumer")
    mkdirSync(consumer)
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], consumer)
  }, 180_000)

  afterAll(() => {
    if (workDirectory !== "") rmSync(workDirectory, { recursive: true, force: true })
  })

  it("ships only dist and package.json", () => {
    const installed = join(consumer, "node_modules", "@tmdb-yearly", "core")
    assert.deepStrictEqual(readdirSync(installed).sort(), ["dist", "package.json"])
    assert.isTrue(existsSync(join(installed, "dist", "index.js")))
    assert.isTrue(existsSync(join(installed, "dist", "index.d.ts")))
  })

  it("dist imports only effect and .js files", () => {
    const emitted = listFiles(join(consumer, "node_modules", "@tmdb-yearly", "core", "dist"), [".js", ".d.ts"])
    assert.isAbove(emitted.length, 20)
    for (const path of emitted) {
      for (const specifier of importSpecifiers(path)) {
        const where = `${relative(consumer, path)} imports ${specifier}`
        assert.isTrue(isEffect(specifier) || isRelative(specifier), where)
        if (isRelative(specifier)) assert.isTrue(specifier.endsWith(".js"), where)
      }
    }
  })

  it("source maps embed their sources", () => {
    // The maps name ../src/*.ts, which the package leaves out, so debuggers need the sources inside the maps.
    const maps = listFiles(join(consumer, "node_modules", "@tmdb-yearly", "core", "dist"), [".js.map"])
    assert.isAbove(maps.length, 10)
    for (const path of maps) {
      const map = JSON.parse(readFileSync(path, "utf8")) as {
        readonly sources: ReadonlyArray<string>
        readonly sourcesContent?: ReadonlyArray<string | null>
      }
      const where = relative(consumer, path)
      assert.strictEqual(map.sourcesContent?.length, map.sources.length, where)
      for (const content of map.sourcesContent ?? []) assert.isString(content, where)
    }
  })

  it("decodes, aggregates and signs on Node", () => {
    const script = `
import { aggregate, signWebhook, TopRatedPage, YearlyRatingsPayload } from "@tmdb-yearly/core"
import { Effect, Redacted, Schema } from "effect"

const page = Schema.decodeUnknownSync(TopRatedPage)({
  page: 1,
  total_pages: 1,
  total_results: 5,
  results: [
    { id: 1, title: "A", release_date: "1999-03-04", vote_average: 6.0, vote_count: 10, adult: false },
    { id: 2, title: "B", release_date: "1999-10-11", vote_average: 6.7 },
    { id: 3, title: "C", release_date: "", vote_average: 9.1 },
    { id: 1, title: "A again", release_date: "2005-01-01", vote_average: 2 },
    { id: 4, title: "D", release_date: "2001-02-03", vote_average: 8.125 }
  ]
})
const table = aggregate([page])
console.log(JSON.stringify(table))
console.log(JSON.stringify(Schema.encodeSync(YearlyRatingsPayload)(table.rows)))
const signature = await Effect.runPromise(
  signWebhook({
    secret: Redacted.make("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1614265330,
    body: new TextEncoder().encode('{"test": 2432232314}')
  })
)
console.log(signature)
`
    writeFileSync(join(consumer, "script.mjs"), script)
    const output = run(process.execPath, ["script.mjs"], consumer)

    assert.strictEqual(
      output,
      [
        '{"rows":[{"year":1999,"voteAverage":6.4,"quantity":2},{"year":2001,"voteAverage":8.1,"quantity":1}],"movies":3,"duplicates":1,"undated":1,"years":2}',
        '[{"year":"1999","vote_average":"6.4","quantity":"2"},{"year":"2001","vote_average":"8.1","quantity":"1"}]',
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ""
      ].join("\n")
    )
  })

  it("type-checks a consumer without skipLibCheck", () => {
    const source = `
import { aggregate, TopRatedPage, verifyWebhook, type YearlyTable } from "@tmdb-yearly/core"
import { Schema } from "effect"

const page = Schema.decodeUnknownSync(TopRatedPage)({ page: 1, results: [], total_pages: 1, total_results: 0 })
export const table: YearlyTable = aggregate([page], { decimals: 2 })
export const verify = verifyWebhook
`
    writeFileSync(join(consumer, "check.ts"), source)
    const tsconfig = {
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2023",
        lib: ["es2023", "dom"],
        strict: true,
        noEmit: true,
        types: []
      },
      files: ["check.ts"]
    }
    writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify(tsconfig))
    const tsc = join(repositoryRoot, "node_modules", "typescript", "bin", "tsc")
    assert.strictEqual(run(process.execPath, [tsc, "-p", "."], consumer), "")
  })
})
