import { Context, Data, Effect, Layer, type Scope } from "effect"
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { chromium, type BrowserContext, type Page } from "playwright-core"

/** Debian's `chromium` package installs its launcher here. Browser tests use no other browser. */
export const CHROMIUM_EXECUTABLE = "/usr/bin/chromium"

/**
 * Command-line flags for a headless Chromium that stays off the network: no background requests, component
 * updates, sync or QUIC. `--no-sandbox` lets Chromium start as root, which it otherwise rejects.
 */
export const CHROMIUM_FLAGS: ReadonlyArray<string> = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** The error message when `/usr/bin/chromium` is missing, with the command that installs it. */
export const CHROMIUM_NOT_FOUND_MESSAGE =
  `Chromium not found at ${CHROMIUM_EXECUTABLE}. The browser tests need Debian's chromium package: ` +
  "run `apt-get update && apt-get install -y chromium` as root."

/** Folder for test artifacts such as screenshots. It is git-ignored. */
export const TEST_RESULTS_DIR = fileURLToPath(new URL("../test-results/", import.meta.url))

/** Failure to start Chromium: it is not installed, or the launch failed. */
export class ChromiumLaunchError extends Data.TaggedError("ChromiumLaunchError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Launches headless Chromium with a fresh temporary profile and closes it, removing the profile, when the
 * scope closes. Fails with `ChromiumLaunchError` when `/usr/bin/chromium` is missing, so that a machine
 * without it fails the browser tests instead of skipping them.
 */
export const launchChromium: Effect.Effect<BrowserContext, ChromiumLaunchError, Scope.Scope> = Effect.gen(function* () {
  if (!existsSync(CHROMIUM_EXECUTABLE)) {
    return yield* new ChromiumLaunchError({ message: CHROMIUM_NOT_FOUND_MESSAGE })
  }
  const profileDir = yield* Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "tmdb-yearly-chromium-"))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )
  return yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        chromium.launchPersistentContext(profileDir, {
          executablePath: CHROMIUM_EXECUTABLE,
          headless: true,
          args: [...CHROMIUM_FLAGS],
          viewport: { width: 1200, height: 900 }
        }),
      catch: (cause) =>
        new ChromiumLaunchError({ message: `Chromium at ${CHROMIUM_EXECUTABLE} failed to start: ${cause}`, cause })
    }),
    (context) => Effect.promise(() => context.close())
  )
})

/** A headless Chromium browser context shared by the tests of one `layer` block. */
export class Chromium extends Context.Service<Chromium, BrowserContext>()("@tmdb-yearly/testing/Chromium") {
  static readonly layer = Layer.effect(Chromium, launchChromium)
}

/** A loaded page and every problem seen while loading it. */
export interface VisitedPage {
  readonly page: Page
  /** Console errors, uncaught page errors, failed requests and HTTP error responses, in the order seen. */
  readonly problems: ReadonlyArray<string>
  /** URLs of every request the page made, the page itself included, in the order made. */
  readonly requests: ReadonlyArray<string>
}

/** Host names of the loopback interface, the only hosts that a page under test may reach. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"])

/** Returns whether `url` names a loopback host. */
const isLoopbackUrl = (url: string): boolean => URL.canParse(url) && LOOPBACK_HOSTS.has(new URL(url).hostname)

/**
 * Opens `url` in a new tab of the shared browser and waits for the load event. The tab closes when the scope
 * closes. Fails the test (as a defect) when navigation fails or the page does not return HTTP 200.
 *
 * Every request to a host other than 127.0.0.1, localhost or [::1] is aborted before it leaves the browser, so a
 * page under test never reaches another machine. Such a request is still listed in `requests`, and its failure
 * in `problems`.
 */
export const visitPage = (url: string): Effect.Effect<VisitedPage, never, Chromium | Scope.Scope> =>
  Effect.gen(function* () {
    const context = yield* Chromium
    const page = yield* Effect.acquireRelease(
      Effect.promise(() => context.newPage()),
      (page) => Effect.promise(() => page.close())
    )
    const problems: Array<string> = []
    const requests: Array<string> = []
    page.on("request", (request) => requests.push(request.url()))
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`)
    })
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
    page.on("requestfailed", (request) =>
      problems.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? "unknown error"})`)
    )
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`)
    })
    yield* Effect.promise(() =>
      page.route("**/*", (route) =>
        isLoopbackUrl(route.request().url()) ? route.continue() : route.abort("blockedbyclient")
      )
    )
    const response = yield* Effect.promise(() => page.goto(url, { waitUntil: "load" }))
    if (response === null || response.status() !== 200) {
      return yield* Effect.die(new Error(`Loading ${url} returned HTTP ${response?.status() ?? "no response"}`))
    }
    return { page, problems, requests }
  })

/** Saves a full-page PNG screenshot under `test-results/` and returns its path. */
export const saveScreenshot = (page: Page, fileName: string): Effect.Effect<string> =>
  Effect.promise(async () => {
    await mkdir(TEST_RESULTS_DIR, { recursive: true })
    const path = join(TEST_RESULTS_DIR, fileName)
    await page.screenshot({ path, fullPage: true })
    return path
  })
