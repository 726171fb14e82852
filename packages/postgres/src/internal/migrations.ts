import type pg from "pg";
import { SchemaNotMigratedError } from "../errors.js";
import type { PostgresLogger } from "../postgres-options.js";
import { appendFunctionSql, explainRejectedAppendSql } from "./append-function.js";
import { appendManyFunctionSql } from "./append-many-function.js";
import { keyFunctionsSql, keyTableSql } from "./key-schema-sql.js";
import { LOCK_CLASS, migrationLockKey } from "./lock-keys.js";
import { revokePublicSql } from "./privileges.js";
import { projectionFunctionsSql, projectionTablesSql } from "./projection-schema.js";
import { reminderFunctionsSql, remindersSql } from "./reminder-schema-sql.js";
import { appendOnlySql, purgeSql, tablesSql } from "./schema-sql.js";
import { snapshotFunctionsSql, snapshotsByVersionSql } from "./snapshot-sql.js";
import { quoteIdent } from "./sql.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** DDL for the (quoted) schema name. Runs inside the migration transaction. */
  readonly sql: (schema: string) => string;
}

/**
 * Applied in order, each once, recorded in `<schema>.migrations`. Never change what a released
 * migration does to tables: add a new one. Functions are the exception: each has one text, its
 * current one (CREATE OR REPLACE), and a migration that changes functions re-creates them, so a
 * database migrated long ago and a fresh one end with the same functions (migration 5 re-creates
 * them all).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "events, streams and snapshots; append-only triggers; append and purge functions",
    sql: (s) => tablesSql(s) + appendOnlySql(s) + purgeSql(s) + appendFunctionSql(s),
  },
  {
    version: 2,
    name: "append_many function: group commit of many appends in one transaction; id lookups by index probe",
    sql: (s) => explainRejectedAppendSql(s) + appendManyFunctionSql(s),
  },
  {
    version: 3,
    name: "reminders with a due-time index; reminder partition epochs",
    sql: (s) => remindersSql(s),
  },
  {
    version: 4,
    name: "snapshots kept per version; save_snapshot and purge_snapshots refuse purged streams under a per-stream lock; correlation index",
    sql: (s) => snapshotsByVersionSql(s),
  },
  {
    version: 5,
    name: "least privilege: every write through SECURITY DEFINER functions with a pinned search_path (also snapshot delete, reminders, projections, keys); projection and key tables join the migrations; one stream guard",
    sql: (s) => projectionTablesSql(s) + keyTableSql(s) + functionsSql(s),
  },
];

/** Every function that writes, from its current text. */
function functionsSql(s: string): string {
  return [
    purgeSql(s),
    appendFunctionSql(s),
    appendManyFunctionSql(s),
    snapshotFunctionsSql(s),
    reminderFunctionsSql(s),
    projectionFunctionsSql(s),
    keyFunctionsSql(s),
  ].join("\n");
}

export const LATEST_MIGRATION = Math.max(...MIGRATIONS.map((m) => m.version));

/**
 * Brings the schema up to date. Safe when several silos start at once: the work runs in one
 * transaction holding a transaction-level advisory lock per schema, so one process migrates and
 * the others wait, then find nothing left to do. An up-to-date schema is detected without the lock
 * and without writing, so a role that may only read and execute (the application role of a
 * two-role setup) uses a migrated schema; where migrations are missing and the role may not run
 * them, SchemaNotMigratedError says who must.
 */
export async function migrate(pool: pg.Pool, schema: string, logger: PostgresLogger): Promise<void> {
  let current: number | undefined;
  try {
    current = await appliedVersion(pool, schema);
    if (current > LATEST_MIGRATION) warnNewer(logger, schema, current);
    if (current >= LATEST_MIGRATION) return;
    await applyMigrations(pool, schema, logger);
  } catch (error) {
    if ((error as { code?: unknown }).code !== INSUFFICIENT_PRIVILEGE) throw error;
    const role = await pool
      .query<{ role: string }>("SELECT current_user AS role")
      .then(({ rows }) => rows[0]?.role ?? "(unknown)")
      .catch(() => "(unknown)");
    throw new SchemaNotMigratedError(schema, role, current, LATEST_MIGRATION, { cause: error });
  }
}

const INSUFFICIENT_PRIVILEGE = "42501";

async function applyMigrations(pool: pg.Pool, schema: string, logger: PostgresLogger): Promise<void> {
  const s = quoteIdent(schema);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_CLASS, migrationLockKey(schema)]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`);
    const applied = new Set(rows.map((r) => r.version));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql(s));
      await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    // Functions a migration created are executable by PUBLIC until this; they run as their owner.
    await client.query(revokePublicSql(s));
    const newest = Math.max(0, ...applied);
    if (newest > LATEST_MIGRATION) warnNewer(logger, schema, newest);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function appliedVersion(pool: pg.Pool, schema: string): Promise<number> {
  const table = `${quoteIdent(schema)}.migrations`;
  const { rows: found } = await pool.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [
    table,
  ]);
  if (!found[0]?.exists) return 0;
  const { rows } = await pool.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${table}`);
  return rows[0]?.version ?? 0;
}

function warnNewer(logger: PostgresLogger, schema: string, applied: number): void {
  logger.warn(
    { schema, applied, known: LATEST_MIGRATION },
    "the Granary schema was migrated by a newer Granary version; this one keeps using the tables and functions it knows",
  );
}
