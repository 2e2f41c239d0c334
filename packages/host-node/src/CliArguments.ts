/** A command line of the CLI, parsed. */
export type CliCommand =
  { readonly _tag: "Start" } | { readonly _tag: "Once"; readonly json: boolean } | { readonly _tag: "Help" }

/** A command line that the CLI does not accept, with the reason. */
export interface CliUsageError {
  readonly _tag: "UsageError"
  readonly reason: string
}

/** Usage text of the CLI, printed by `--help` and after a usage error. */
export const USAGE = `Usage: tmdb-yearly <command> [options]

Commands:
  start          Serve the HTTP API and the webhook, and run the job at start-up and every JOB_INTERVAL.
  once [--json]  Run the job once and exit. Prints the yearly table as text, or only the published
                 JSON array with --json. Exits with status 1 when the run fails.

Options:
  -h, --help     Print this help.

Both commands read the same environment variables (see the README's configuration table).`

const usageError = (reason: string): CliUsageError => ({ _tag: "UsageError", reason })

/** Parses the arguments after the script name, such as `["once", "--json"]`. */
export const parseCliArguments = (args: ReadonlyArray<string>): CliCommand | CliUsageError => {
  if (args.includes("--help") || args.includes("-h")) return { _tag: "Help" }
  const [command, ...options] = args
  switch (command) {
    case undefined:
      return usageError("missing command: expected start or once")
    case "start": {
      if (options.length > 0) return usageError(`start takes no options, got ${options.join(" ")}`)
      return { _tag: "Start" }
    }
    case "once": {
      const unknown = options.filter((option) => option !== "--json")
      if (unknown.length > 0) return usageError(`unknown option for once: ${unknown.join(" ")}`)
      return { _tag: "Once", json: options.includes("--json") }
    }
    default:
      return usageError(`unknown command ${command}: expected start or once`)
  }
}
