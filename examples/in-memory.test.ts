import { assert, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { PAGES_1_TO_10_TABLE } from "../testing/goldenTable.ts"

const script = fileURLToPath(new URL("./in-memory.ts", import.meta.url))

it("in-memory example prints the golden table and report", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--conditions=@tmdb-yearly/source", script], {
    timeout: 20_000
  })
  // The array is printed one row per line, so its first line that is a bare "]" closes it.
  const end = stdout.indexOf("\n]\n")
  assert.isAbove(end, 0, stdout)
  const published: unknown = JSON.parse(stdout.slice(0, end + 2))
  const report = JSON.parse(stdout.slice(end + 3)) as Record<string, unknown>

  assert.deepStrictEqual(published, PAGES_1_TO_10_TABLE)
  assert.strictEqual(report["outcome"], "succeeded")
  assert.strictEqual(report["pages_requested"], 10)
  assert.strictEqual(report["pages_read"], 10)
  assert.strictEqual(report["movies"], 200)
  assert.strictEqual(report["duplicates"], 0)
  assert.strictEqual(report["undated"], 0)
  assert.strictEqual(report["years"], 72)
  assert.strictEqual(report["failure"], null)
  assert.strictEqual(report["delivery_id"], `msg_${String(report["run_id"])}`)
  assert.match(String(report["started_at"]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
})
