import { Schema } from "effect"

/** A storage operation that failed, for example because the database is unreachable. */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Storage operation ${this.operation} failed: ${this.detail}`
  }
}
