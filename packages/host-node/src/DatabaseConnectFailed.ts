import { Redacted, Schema } from "effect"
import type { SqlError } from "effect/sql"

/** Port that PostgreSQL clients use when a URL names none. */
const DEFAULT_POSTGRES_PORT = "5432"

/** Readable names of the socket errors that a connection attempt to `DATABASE_URL` most often ends with. */
const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out"
}

/**
 * The PostgreSQL server at `DATABASE_URL` did not accept a connection at start-up. The message names the
 * variable, the host and port, the reason and what to check. It never contains the user name or password.
 */
export class DatabaseConnectFailed extends Schema.TaggedError<DatabaseConnectFailed>()("DatabaseConnectFailed", {
  /** `host:port` from the URL. */
  address: Schema.String,
  reason: Schema.String,
  nextStep: Schema.String
}) {
  override get message(): string {
    return `Cannot connect to PostgreSQL at ${this.address} (DATABASE_URL): ${this.reason}. ${this.nextStep}`
  }
}

/** Returns `host:port` of a `postgres://` URL, with the default port 5432 when the URL names none. */
export const postgresAddress = (url: Redacted.Redacted<string>): string => {
  const parsed = new URL(Redacted.value(url))
  return `${parsed.hostname}:${parsed.port === "" ? DEFAULT_POSTGRES_PORT : parsed.port}`
}

const stringField = (value: unknown, field: string): string | undefined => {
  if (typeof value !== "object" || value === null || !(field in value)) return undefined
  const found: unknown = (value as Record<string, unknown>)[field]
  return typeof found === "string" ? found : undefined
}

/**
 * Turns a failure of the first connection to `DATABASE_URL` into a `DatabaseConnectFailed`. Returns the error
 * unchanged when it happened after the connection was made, such as a failed migration.
 *
 * The server's own message is left out for SQLSTATE class 28 (invalid authorization), because PostgreSQL
 * names the user there, and the user name is replaced by `<user>` in the other server messages.
 */
export const describeConnectFailure = (
  url: Redacted.Redacted<string>,
  error: SqlError.SqlError
): DatabaseConnectFailed | SqlError.SqlError => {
  const reason = error.reason
  if (reason.operation !== "connect") return error
  const address = postgresAddress(url)
  const checkServer =
    "Check that the server is running and reachable from this machine, or unset DATABASE_URL to use the embedded server."
  // A server error carries its SQLSTATE in `code` and a `severity`. A socket error carries a code such as
  // ECONNREFUSED.
  const code = stringField(reason.cause, "code")
  const fromServer = code !== undefined && stringField(reason.cause, "severity") !== undefined
  const detail = (reason.message ?? "Failed to connect").replace(/^PgConnection: /, "")
  const lowerDetail = detail.charAt(0).toLowerCase() + detail.slice(1)

  if (reason._tag === "AuthenticationError") {
    return new DatabaseConnectFailed({
      address,
      reason: fromServer ? `the server rejected the login (SQLSTATE ${code})` : lowerDetail,
      nextStep: "Check the user name and password in DATABASE_URL, and that the server accepts them from this host."
    })
  }
  if (fromServer) {
    // Some messages name the role in quotes, such as SQLSTATE 53300 'too many connections for role "app"'.
    const user = decodeURIComponent(new URL(Redacted.value(url)).username)
    const message = stringField(reason.cause, "message") ?? "no message"
    const serverMessage = user === "" ? message : message.replaceAll(`"${user}"`, '"<user>"')
    return new DatabaseConnectFailed({
      address,
      reason: `${serverMessage} (SQLSTATE ${code})`,
      nextStep: code === "3D000" ? "Check the database name in DATABASE_URL, or create that database." : checkServer
    })
  }
  const socketReason = code === undefined ? lowerDetail : `${SOCKET_ERRORS[code] ?? lowerDetail} (${code})`
  return new DatabaseConnectFailed({ address, reason: socketReason, nextStep: checkServer })
}
