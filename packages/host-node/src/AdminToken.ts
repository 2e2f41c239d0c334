import { Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"

/** The characters of a bearer token (RFC 6750, section 2.1): letters, digits, `-._~+/` and trailing `=`. */
export const BEARER_TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/

const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/**
 * Checks an `Authorization` header against the admin token: it must be `Bearer <token>` (the scheme in any
 * case) with exactly that token. Both tokens are hashed to SHA-256 first and the digests compared with
 * `timingSafeEqual`, so the time taken reveals neither the content nor the length of the expected token.
 */
export const bearerTokenMatches = (expected: Redacted.Redacted<string>, authorization: string | undefined): boolean => {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "")
  const presented = match?.[1]
  if (presented === undefined) return false
  return timingSafeEqual(sha256(presented), sha256(Redacted.value(expected)))
}
