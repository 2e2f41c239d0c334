/**
 * A fragment of HTML or SVG markup that is already escaped. Only the `html` template creates one, so any
 * string that reaches the page without passing through `html` is escaped on the way in.
 */
export class Html {
  readonly markup: string
  constructor(markup: string) {
    this.markup = markup
  }
}

/** A value interpolated into the `html` template. `null` and `undefined` render as nothing. */
export type HtmlValue = Html | string | number | null | undefined | ReadonlyArray<HtmlValue>

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;"
}

/** Escapes text for an HTML text node or a quoted attribute value. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char)

const renderValue = (value: HtmlValue): string => {
  if (value === null || value === undefined) return ""
  if (value instanceof Html) return value.markup
  if (typeof value === "string") return escapeHtml(value)
  if (typeof value === "number") return escapeHtml(String(value))
  return value.map(renderValue).join("")
}

/**
 * Builds markup from a template literal. Strings and numbers are escaped, `Html` fragments are inserted
 * as they are, and arrays are rendered element by element.
 */
export const html = (template: TemplateStringsArray, ...values: ReadonlyArray<HtmlValue>): Html => {
  let markup = template[0] ?? ""
  values.forEach((value, index) => {
    markup += renderValue(value) + (template[index + 1] ?? "")
  })
  return new Html(markup)
}
