import { PgMigrator } from "@effect/sql-pg"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql"

const createDeliveries = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // `seq` orders deliveries received at the same instant by the order in which they were stored.
  yield* sql`
    CREATE TABLE webhook_deliveries (
      id text PRIMARY KEY,
      received_at timestamptz NOT NULL,
      row_count integer NOT NULL CHECK (row_count >= 0),
      seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE
    )`
  yield* sql`CREATE INDEX webhook_deliveries_received_at ON webhook_deliveries (received_at, seq)`
  yield* sql`
    CREATE TABLE yearly_ratings (
      delivery_id text NOT NULL REFERENCES webhook_deliveries (id),
      year integer NOT NULL CHECK (year BETWEEN 1000 AND 9999),
      vote_average numeric(5, 3) NOT NULL CHECK (vote_average BETWEEN 0 AND 10),
      quantity integer NOT NULL CHECK (quantity > 0),
      PRIMARY KEY (delivery_id, year)
    )`
  yield* sql`CREATE INDEX yearly_ratings_year ON yearly_ratings (year)`
  yield* sql`
    CREATE VIEW latest_yearly_ratings AS
    SELECT ratings.delivery_id, newest.received_at, ratings.year, ratings.vote_average, ratings.quantity
    FROM (
      SELECT id, received_at FROM webhook_deliveries ORDER BY received_at DESC, seq DESC LIMIT 1
    ) AS newest
    JOIN yearly_ratings AS ratings ON ratings.delivery_id = newest.id`
})

const createJobRuns = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // `delivery_id` has no foreign key: the receiver that stores deliveries may use another database.
  yield* sql`
    CREATE TABLE job_runs (
      run_id text PRIMARY KEY,
      started_at timestamptz NOT NULL,
      finished_at timestamptz,
      pages_requested integer NOT NULL,
      pages_read integer NOT NULL,
      movies integer NOT NULL,
      duplicates integer NOT NULL,
      undated integer NOT NULL,
      years integer NOT NULL,
      delivery_id text,
      outcome text NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed')),
      failure_page integer,
      failure_reason text,
      seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
      CHECK (failure_page IS NULL OR failure_reason IS NOT NULL)
    )`
  yield* sql`CREATE INDEX job_runs_started_at ON job_runs (started_at DESC, seq DESC)`
  yield* sql`CREATE INDEX job_runs_succeeded ON job_runs (finished_at DESC) WHERE outcome = 'succeeded'`
})

/**
 * The schema migrations, keyed `<version>_<name>`. They are forward-only: a released migration is never edited,
 * and a change to the schema is a new entry with a higher version.
 */
export const pgMigrations = {
  "1_create_deliveries": createDeliveries,
  "2_create_job_runs": createJobRuns
}

/** Name of the table in which the migrator records the applied versions. */
export const MIGRATIONS_TABLE = "effect_sql_migrations"

// `PgMigrator.make` without `dumpSchema` needs no file system or child process services, unlike `PgMigrator.run`.
const migrator = PgMigrator.make({})

/**
 * Applies the migrations that the database has not recorded yet, in one transaction, and returns their
 * `[version, name]` pairs: empty when the schema is up to date. The migrator locks its table, so concurrent
 * starts apply each migration once.
 */
export const runPgMigrations: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  PgMigrator.MigrationError | SqlError.SqlError,
  SqlClient.SqlClient
> = migrator({ loader: PgMigrator.fromRecord(pgMigrations), table: MIGRATIONS_TABLE })

/** Applies the pending migrations when the layer is built. */
export const PgMigrations: {
  readonly layer: Layer.Layer<never, PgMigrator.MigrationError | SqlError.SqlError, SqlClient.SqlClient>
} = {
  layer: Layer.effectDiscard(runPgMigrations)
}
