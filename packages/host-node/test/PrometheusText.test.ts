import { assert, describe, it } from "@effect/vitest"
import { parsePrometheusText, sampleValue } from "../../../testing/prometheusText.ts"

// The parser that the metrics tests rely on must reject what Prometheus rejects, or those tests prove little.

const VALID = [
  "# HELP jobs_total Jobs run",
  "# TYPE jobs_total counter",
  'jobs_total{outcome="ok",note="a \\"quoted\\" \\\\ value"} 3',
  "# TYPE wait_seconds histogram",
  'wait_seconds_bucket{le="0.5"} 1',
  'wait_seconds_bucket{le="1"} 2',
  'wait_seconds_bucket{le="+Inf"} 2',
  "wait_seconds_sum 1.25",
  "wait_seconds_count 2",
  ""
].join("\n")

describe("parsePrometheusText", () => {
  it("reads families, labels and values", () => {
    const families = parsePrometheusText(VALID)
    assert.strictEqual(families.get("jobs_total")?.type, "counter")
    assert.strictEqual(families.get("jobs_total")?.help, "Jobs run")
    assert.strictEqual(sampleValue(families, "jobs_total", { outcome: "ok", note: 'a "quoted" \\ value' }), 3)
    assert.strictEqual(sampleValue(families, "wait_seconds_sum"), 1.25)
    assert.strictEqual(families.get("wait_seconds")?.samples.length, 5)
  })

  const invalid: ReadonlyArray<readonly [string, string]> = [
    ["sample without TYPE", "jobs_total 1\n"],
    ["TYPE twice", "# TYPE a counter\n# TYPE a counter\n"],
    ["unknown type", "# TYPE a meter\n"],
    ["bad value", "# TYPE a counter\na one\n"],
    ["unquoted label", "# TYPE a counter\na{x=1} 1\n"],
    ["no final line feed", "# TYPE a counter\na 1"],
    ["buckets out of order", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n'],
    ["+Inf unlike _count", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\nh_sum 0\n'],
    ["HELP without TYPE", "# HELP a text\n"]
  ]
  for (const [name, text] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parsePrometheusText(text))
    })
  }

  it("missing sample throws", () => {
    assert.throws(() => sampleValue(parsePrometheusText(VALID), "jobs_total", { outcome: "failed" }), /No sample/)
  })
})
