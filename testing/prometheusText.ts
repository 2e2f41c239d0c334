/** One sample line of the Prometheus text format: `name{label="value",...} 12.5`. */
export interface PrometheusSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** A metric family: its `# TYPE`, its `# HELP` when given, and its samples in the order written. */
export interface PrometheusFamily {
  readonly name: string
  readonly type: "counter" | "gauge" | "histogram" | "summary" | "untyped"
  readonly help: string | undefined
  readonly samples: ReadonlyArray<PrometheusSample>
}

const METRIC_NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*"
const LABEL_NAME = "[a-zA-Z_][a-zA-Z0-9_]*"
// A label value is a quoted string in which only \\, \" and \n are escapes.
const LABEL = `(${LABEL_NAME})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`
const SAMPLE = new RegExp(`^(${METRIC_NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (\\S+)(?: (-?\\d+))?$`)
const HELP = new RegExp(`^# HELP (${METRIC_NAME}) (.*)$`)
const TYPE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`)
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/

const parseValue = (text: string): number => {
  if (text === "+Inf") return Number.POSITIVE_INFINITY
  if (text === "-Inf") return Number.NEGATIVE_INFINITY
  return Number(text)
}

const parseLabels = (text: string | undefined): Record<string, string> => {
  const labels: Record<string, string> = {}
  if (text === undefined) return labels
  for (const match of text.matchAll(new RegExp(LABEL, "g"))) {
    const [, name = "", raw = ""] = match
    if (name in labels) throw new Error(`label ${name} appears twice`)
    labels[name] = raw.replace(/\\(["\\n])/g, (_, escaped: string) => (escaped === "n" ? "\n" : escaped))
  }
  return labels
}

/** Finds the family a sample belongs to: its own name, or for a histogram or summary the name without its suffix. */
const familyOf = (families: Map<string, { type: PrometheusFamily["type"] }>, name: string): string | undefined => {
  if (families.has(name)) return name
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined
    const type = base === undefined ? undefined : families.get(base)?.type
    if (base !== undefined && (type === "histogram" || (type === "summary" && suffix !== "_bucket"))) return base
  }
  return undefined
}

/** Checks that a histogram's buckets are cumulative and that its `+Inf` bucket equals its `_count`. */
const checkHistogram = (family: PrometheusFamily): void => {
  const series = new Map<string, Array<PrometheusSample>>()
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels
    const key = JSON.stringify(rest)
    series.set(key, [...(series.get(key) ?? []), sample])
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((sample) => sample.name === `${family.name}_bucket`)
    const count = samples.find((sample) => sample.name === `${family.name}_count`)
    if (buckets.length === 0 || count === undefined) throw new Error(`histogram ${family.name}${key} lacks buckets`)
    let previous = { bound: Number.NEGATIVE_INFINITY, value: 0 }
    for (const bucket of buckets) {
      const bound = parseValue(bucket.labels["le"] ?? "")
      if (!(bound > previous.bound) || bucket.value < previous.value) {
        throw new Error(`histogram ${family.name}${key}: bucket le=${bucket.labels["le"]} is out of order`)
      }
      previous = { bound, value: bucket.value }
    }
    if (previous.bound !== Number.POSITIVE_INFINITY || previous.value !== count.value) {
      throw new Error(`histogram ${family.name}${key}: the +Inf bucket does not equal _count`)
    }
  }
}

/**
 * Parses the Prometheus text exposition format, version 0.0.4, strictly. Every line must be a `# HELP`, a
 * `# TYPE` or a sample, and each family is typed once, before its samples. Histogram samples are `_bucket`
 * (with `le`), `_sum` and `_count`, with cumulative buckets that end at `+Inf`. Throws an `Error` that quotes
 * the first line that breaks a rule.
 */
export const parsePrometheusText = (text: string): ReadonlyMap<string, PrometheusFamily> => {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the text does not end with a line feed")
  const families = new Map<
    string,
    { type: PrometheusFamily["type"]; help: string | undefined; samples: Array<PrometheusSample> }
  >()
  const helps = new Map<string, string>()
  const lines = text === "" ? [] : text.slice(0, -1).split("\n")

  for (const [index, line] of lines.entries()) {
    const fail = (reason: string): never => {
      throw new Error(`line ${index + 1} ${reason}: ${JSON.stringify(line)}`)
    }
    const help = HELP.exec(line)
    if (help !== null) {
      const [, name = "", docstring = ""] = help
      if (helps.has(name)) fail("repeats a HELP")
      helps.set(name, docstring)
      continue
    }
    const type = TYPE.exec(line)
    if (type !== null) {
      const [, name = "", kind = ""] = type
      if (families.has(name)) fail("repeats a TYPE")
      families.set(name, { type: kind as PrometheusFamily["type"], help: undefined, samples: [] })
      continue
    }
    if (line.startsWith("#")) fail("is a comment of an unknown kind")
    const sample = SAMPLE.exec(line)
    if (sample === null) {
      fail("is not a sample")
      continue
    }
    const name = sample[1] ?? ""
    const valueText = sample.at(-2) ?? ""
    if (!VALUE.test(valueText)) fail("has an invalid value")
    const familyName = familyOf(families, name)
    if (familyName === undefined) fail("has no TYPE before it")
    const family = families.get(familyName ?? "")
    let labels: Record<string, string> = {}
    try {
      labels = parseLabels(sample[2])
    } catch (error) {
      fail(String(error))
    }
    if (family?.type === "histogram" && name.endsWith("_bucket") && labels["le"] === undefined) fail("has no le")
    family?.samples.push({ name, labels, value: parseValue(valueText) })
  }

  const result = new Map<string, PrometheusFamily>()
  for (const [name, family] of families) {
    const parsed: PrometheusFamily = { name, ...family, help: helps.get(name) }
    if (parsed.type === "histogram") checkHistogram(parsed)
    result.set(name, parsed)
  }
  for (const name of helps.keys()) {
    if (!families.has(name)) throw new Error(`HELP for ${name} has no TYPE`)
  }
  return result
}

/**
 * Returns the value of the sample `name` whose labels are exactly `labels`. Throws when there is no such sample,
 * so a metric that is missing fails the test instead of counting as zero.
 */
export const sampleValue = (
  families: ReadonlyMap<string, PrometheusFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {}
): number => {
  const expectedLabels = JSON.stringify(Object.entries(labels).sort())
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === expectedLabels)
        return sample.value
    }
  }
  throw new Error(`No sample ${name}${JSON.stringify(labels)} in the metrics`)
}
