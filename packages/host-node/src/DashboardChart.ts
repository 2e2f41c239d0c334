import type { YearlyRating } from "@tmdb-yearly/core"
import { html, type Html } from "./DashboardHtml.ts"

// Chart geometry in SVG user units. The SVG scales to its container through its viewBox.
const WIDTH = 960
const MARGIN_LEFT = 76
const MARGIN_RIGHT = 20
const PLOT_WIDTH = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
const AVERAGE_TOP = 16
const AVERAGE_HEIGHT = 200
const QUANTITY_TOP = AVERAGE_TOP + AVERAGE_HEIGHT + 36
const QUANTITY_HEIGHT = 150
const HEIGHT = QUANTITY_TOP + QUANTITY_HEIGHT + 52

/** Minimum distance in user units between two year labels, so that four-digit labels at 12px do not overlap. */
const MIN_YEAR_LABEL_SPACING = 48
const YEAR_LABEL_INTERVALS = [1, 2, 5, 10, 20, 25, 50, 100, 250, 500, 1000]
const MAX_BAR_WIDTH = 36
/**
 * Minimum bar height, so that a year with one movie stays visible next to years with hundreds. A bar can then
 * be up to this much taller than its value, so the tooltip and the table give the exact count.
 */
const MIN_BAR_HEIGHT = 1

/** A linear value axis: its domain, the tick values and the decimals used to print them. */
interface ValueAxis {
  readonly lower: number
  readonly upper: number
  readonly ticks: ReadonlyArray<number>
  readonly decimals: number
}

const decimalsOf = (value: number): number => {
  const text = String(value)
  const point = text.indexOf(".")
  return point === -1 ? 0 : text.length - point - 1
}

const makeAxis = (lower: number, upper: number, step: number): ValueAxis => {
  const count = Math.round((upper - lower) / step)
  const ticks = Array.from({ length: count + 1 }, (_, index) => Number((lower + index * step).toFixed(6)))
  return { lower, upper, ticks, decimals: decimalsOf(step) }
}

/**
 * Builds the axis of the average vote. It spans whole votes around the data, within 0 to 10, rather than
 * starting at zero, so that differences between years stay visible. The tick labels show where it starts.
 */
const averageAxis = (rows: ReadonlyArray<YearlyRating>): ValueAxis => {
  const averages = rows.map((row) => row.voteAverage)
  let lower = Math.max(0, Math.floor(Math.min(...averages) - 0.1))
  let upper = Math.min(10, Math.ceil(Math.max(...averages) + 0.1))
  if (upper - lower < 1) {
    if (upper < 10) upper = lower + 1
    else lower = upper - 1
  }
  const steps = [0.1, 0.2, 0.25, 0.5, 1, 2]
  const step = steps.find((candidate) => (upper - lower) / candidate <= 6) ?? 2
  return makeAxis(lower, upper, step)
}

/** Builds the axis of the movie count: it starts at zero because the bars encode length. */
const quantityAxis = (rows: ReadonlyArray<YearlyRating>): ValueAxis => {
  const max = Math.max(1, ...rows.map((row) => row.quantity))
  let step = 1
  for (let magnitude = 1; ; magnitude *= 10) {
    const found = [1, 2, 5].map((factor) => factor * magnitude).find((candidate) => Math.ceil(max / candidate) <= 5)
    if (found !== undefined) {
      step = found
      break
    }
  }
  return makeAxis(0, Math.ceil(max / step) * step, step)
}

const round = (value: number): number => Math.round(value * 100) / 100

/**
 * Makes a formatter that prints every average with the same number of decimals, so that a column of averages
 * lines up and 8 reads as "8.0" next to "8.1". Without `decimals`, it uses the most decimals that any row has,
 * which is fewer than configured when every average ends in zero.
 */
export const makeAverageFormatter = (
  rows: ReadonlyArray<YearlyRating>,
  decimals?: number
): ((value: number) => string) => {
  const digits = decimals ?? Math.min(3, Math.max(0, ...rows.map((row) => decimalsOf(row.voteAverage))))
  return (value) => value.toFixed(digits)
}

const movieCount = (quantity: number): string => (quantity === 1 ? "1 movie" : `${quantity} movies`)

/** Splits rows (sorted by year) into runs of consecutive years, so that the line breaks at missing years. */
const consecutiveRuns = (rows: ReadonlyArray<YearlyRating>): ReadonlyArray<ReadonlyArray<YearlyRating>> => {
  const runs: Array<Array<YearlyRating>> = []
  let previousYear: number | undefined
  for (const row of rows) {
    const current = runs[runs.length - 1]
    if (current !== undefined && previousYear === row.year - 1) current.push(row)
    else runs.push([row])
    previousYear = row.year
  }
  return runs
}

const describeChart = (
  rows: ReadonlyArray<YearlyRating>,
  formatAverage: (value: number) => string,
  firstYear: number,
  lastYear: number
): string => {
  const only = rows.length === 1 ? rows[0] : undefined
  if (only !== undefined) {
    return (
      `Average vote as a point and number of movies as a bar for ${only.year}: ` +
      `average vote ${formatAverage(only.voteAverage)}, ${movieCount(only.quantity)}.`
    )
  }
  const lowest = rows.reduce((best, row) => (row.voteAverage < best.voteAverage ? row : best))
  const highest = rows.reduce((best, row) => (row.voteAverage > best.voteAverage ? row : best))
  const busiest = rows.reduce((best, row) => (row.quantity > best.quantity ? row : best))
  return (
    `Average vote as points and number of movies as bars for ${rows.length} years from ${firstYear} to ${lastYear}. ` +
    `The average ranges from ${formatAverage(lowest.voteAverage)} (${lowest.year}) ` +
    `to ${formatAverage(highest.voteAverage)} (${highest.year}). ` +
    `The most movies in one year is ${busiest.quantity} (${busiest.year}). The table below lists every value.`
  )
}

const renderValueAxis = (axis: ValueAxis, top: number, height: number, label: string): Html => {
  const y = (value: number) => round(top + height * (1 - (value - axis.lower) / (axis.upper - axis.lower)))
  const labelY = round(top + height / 2)
  return html`<g class="axis axis-y">
    ${axis.ticks.map(
      (tick) =>
        html`<line class="grid" x1="${MARGIN_LEFT}" x2="${WIDTH - MARGIN_RIGHT}" y1="${y(tick)}" y2="${y(tick)}" />
          <text class="tick-label" x="${MARGIN_LEFT - 8}" y="${y(tick)}" text-anchor="end" dominant-baseline="middle"
            >${tick.toFixed(axis.decimals)}</text
          > `
    )}<line class="axis-line" x1="${MARGIN_LEFT}" x2="${MARGIN_LEFT}" y1="${top}" y2="${top + height}" />
    <text class="axis-label" transform="translate(18 ${labelY}) rotate(-90)" text-anchor="middle">${label}</text>
  </g> `
}

/**
 * Renders the yearly table as an accessible SVG chart with two stacked panels on one year axis: the average
 * vote as points joined by a line (broken at missing years) and the number of movies as bars. Each year gets
 * one `mark-average` circle and one `mark-quantity` rect with a `data-year` attribute. `rows` must be sorted
 * by year and not empty.
 */
export const renderYearlyChart = (rows: ReadonlyArray<YearlyRating>, voteAverageDecimals?: number): Html => {
  const firstYear = rows[0]?.year ?? 0
  const lastYear = rows[rows.length - 1]?.year ?? 0
  const yearSlots = lastYear - firstYear + 1
  const slotWidth = PLOT_WIDTH / yearSlots
  const x = (year: number) => round(MARGIN_LEFT + (year - firstYear + 0.5) * slotWidth)

  const formatAverage = makeAverageFormatter(rows, voteAverageDecimals)
  const markTitle = (row: YearlyRating) =>
    `${row.year}: average vote ${formatAverage(row.voteAverage)}, ${movieCount(row.quantity)}`
  const average = averageAxis(rows)
  const averageY = (value: number) =>
    round(AVERAGE_TOP + AVERAGE_HEIGHT * (1 - (value - average.lower) / (average.upper - average.lower)))
  const quantity = quantityAxis(rows)
  const quantityBottom = QUANTITY_TOP + QUANTITY_HEIGHT
  const barHeight = (value: number) => round(Math.max(MIN_BAR_HEIGHT, (QUANTITY_HEIGHT * value) / quantity.upper))

  const interval =
    YEAR_LABEL_INTERVALS.find((candidate) => candidate * slotWidth >= MIN_YEAR_LABEL_SPACING) ?? yearSlots
  const labelledYears: Array<number> = []
  for (let year = Math.ceil(firstYear / interval) * interval; year <= lastYear; year += interval) {
    labelledYears.push(year)
  }

  const barWidth = round(Math.min(MAX_BAR_WIDTH, Math.max(1, slotWidth * 0.7)))
  const radius = round(Math.min(4, Math.max(2, slotWidth * 0.35)))

  const lines = consecutiveRuns(rows)
    .filter((run) => run.length > 1)
    .map(
      (run) =>
        html`<polyline
          class="average-line"
          points="${run.map((row) => `${x(row.year)},${averageY(row.voteAverage)}`).join(" ")}"
        /> `
    )
  const averageMarks = rows.map(
    (row) =>
      html`<circle
        class="mark-average"
        data-year="${row.year}"
        cx="${x(row.year)}"
        cy="${averageY(row.voteAverage)}"
        r="${radius}"
        ><title>${markTitle(row)}</title></circle
      > `
  )
  const quantityMarks = rows.map((row) => {
    const height = barHeight(row.quantity)
    return html`<rect
      class="mark-quantity"
      data-year="${row.year}"
      x="${round(x(row.year) - barWidth / 2)}"
      y="${round(quantityBottom - height)}"
      width="${barWidth}"
      height="${height}"
      ><title>${markTitle(row)}</title></rect
    > `
  })
  const yearTicks = labelledYears.map(
    (year) =>
      html`<line class="grid grid-year" x1="${x(year)}" x2="${x(year)}" y1="${AVERAGE_TOP}" y2="${quantityBottom}" />
        <line class="tick" x1="${x(year)}" x2="${x(year)}" y1="${quantityBottom}" y2="${quantityBottom + 5}" />
        <text class="tick-label" x="${x(year)}" y="${quantityBottom + 18}" text-anchor="middle">${year}</text> `
  )

  return html`<svg
    class="chart"
    role="img"
    viewBox="0 0 ${WIDTH} ${HEIGHT}"
    aria-labelledby="chart-title"
    aria-describedby="chart-desc"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title id="chart-title">Average vote and number of movies per release year</title>
    <desc id="chart-desc">${describeChart(rows, formatAverage, firstYear, lastYear)}</desc>
    <g class="axis axis-x">
      ${yearTicks}
      <line
        class="axis-line"
        x1="${MARGIN_LEFT}"
        x2="${WIDTH - MARGIN_RIGHT}"
        y1="${quantityBottom}"
        y2="${quantityBottom}"
      />
      <text class="axis-label" x="${round(MARGIN_LEFT + PLOT_WIDTH / 2)}" y="${HEIGHT - 8}" text-anchor="middle">
        Release year
      </text>
    </g>
    ${renderValueAxis(average, AVERAGE_TOP, AVERAGE_HEIGHT, "Average vote")}${renderValueAxis(quantity, QUANTITY_TOP, QUANTITY_HEIGHT, "Movies")}
    <g class="series-quantity">${quantityMarks}</g>
    <g class="series-average">${lines}${averageMarks}</g>
  </svg>`
}
