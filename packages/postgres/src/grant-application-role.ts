import { InvalidArgumentError } from "@granary/core";
import type pg from "pg";
import { Connection } from "./internal/connection.js";
import { grantApplicationSql } from "./internal/privileges.js";
import { quoteIdent } from "./internal/sql.js";
import { type PostgresLogger, resolvePostgresOptions } from "./postgres-options.js";

export interface GrantApplicationRoleOptions {
  /**
   * The role the silos connect as. It must exist (`CREATE ROLE granary_app LOGIN PASSWORD '…'`)
   * and be neither a superuser nor the schema's owner (or a member of it): such a role could
   * change every table itself.
   */
  readonly role: string;
  /** Granary's schema, as the stores' `schema` option. @default "granary" */
  readonly schema?: string;
  /** Where warnings go (a schema migrated by a newer Granary). @default process.emitWarning */
  readonly logger?: PostgresLogger;
}

/**
 * Sets up least privilege on PostgreSQL: migrates Granary's schema as the role this connection
 * uses — which becomes (or already is) the owner of its tables and functions — then lets `role`
 * read what the stores read and execute Granary's functions, and nothing else. Every write the
 * stores make goes through those functions, which run as the owner and check what the stores
 * check (versions, fencing epochs, tombstones); `role` cannot INSERT, UPDATE, DELETE or TRUNCATE
 * any of the schema's tables, nor execute its internal functions. Privileges `role` held in the
 * schema before are taken back first. Idempotent: run it at every deploy, before the silos start
 * (a new Granary version may bring migrations, and the silos' role may not run them).
 *
 * @param owner the owner's connection: a `postgres://` URL, or a pg.Pool (not ended here)
 * @throws InvalidArgumentError when `role` does not exist, is a superuser, owns the schema (or may
 *   write every table through `pg_write_all_data`), or this connection's role does not own it
 * @example
 * // As the owner, e.g. in a deploy step:
 * await grantApplicationRole("postgres://granary_owner:secret@db:5432/app", { role: "granary_app" });
 * // The silos then connect as the application role:
 * const events = new PostgresEventStore({ connectionString: "postgres://granary_app:secret@db:5432/app" });
 */
export async function grantApplicationRole(
  owner: string | pg.Pool,
  options: GrantApplicationRoleOptions,
): Promise<void> {
  const role = options?.role;
  if (typeof role !== "string" || role.length === 0 || Buffer.byteLength(role) > 63) {
    throw new InvalidArgumentError(
      "grantApplicationRole needs `role`: the name of the role the silos connect as (at most 63 bytes)",
    );
  }
  const resolved = resolvePostgresOptions({
    ...(typeof owner === "string" ? { connectionString: owner } : { pool: owner }),
    ...(options.schema !== undefined && { schema: options.schema }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  const db = new Connection(resolved, "grantApplicationRole");
  try {
    // run() migrates first, as this connection's role.
    await db.run(async () => {
      const client = await db.pool.connect();
      let failed: Error | undefined;
      try {
        await client.query("BEGIN");
        await checkRoles(client, role, resolved.schema);
        await client.query(grantApplicationSql(db.s, quoteIdent(role)));
        // PostgreSQL 17+: lets the key store VACUUM the key table after a destroy (see its doc).
        const { rows } = await client.query<{ maintain: boolean }>(
          "SELECT current_setting('server_version_num')::integer >= 170000 AS maintain",
        );
        if (rows[0]?.maintain) await client.query(`GRANT MAINTAIN ON ${db.s}.subject_keys TO ${quoteIdent(role)}`);
        await client.query("COMMIT");
      } catch (error) {
        failed = error as Error;
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release(failed);
      }
    });
  } finally {
    await db.close();
  }
}

interface RoleRow {
  readonly superuser: boolean;
  readonly owns: boolean;
  readonly writes_all: boolean;
  readonly connected_owns: boolean;
  readonly connected: string;
}

async function checkRoles(client: pg.PoolClient, role: string, schema: string): Promise<void> {
  const { rows } = await client.query<RoleRow>(
    `SELECT r.rolsuper AS superuser, pg_has_role(r.oid, n.nspowner, 'USAGE') AS owns,
            coalesce((SELECT pg_has_role(r.oid, w.oid, 'USAGE') FROM pg_roles w WHERE w.rolname = 'pg_write_all_data'), false) AS writes_all,
            pg_has_role(current_user, n.nspowner, 'USAGE') AS connected_owns, current_user AS connected
     FROM pg_roles r CROSS JOIN pg_namespace n WHERE r.rolname = $1 AND n.nspname = $2`,
    [role, schema],
  );
  const row = rows[0];
  const data = { role, schema };
  if (!row) {
    throw new InvalidArgumentError(
      `role "${role}" does not exist: create it (CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '…'), then run grantApplicationRole again`,
      data,
    );
  }
  if (!row.connected_owns) {
    throw new InvalidArgumentError(
      `role "${row.connected}", which this connection uses, does not own schema "${schema}", so it cannot grant on it: connect as the owner`,
      data,
    );
  }
  if (row.superuser || row.owns || row.writes_all) {
    const why = row.superuser
      ? "is a superuser, which bypasses every privilege"
      : row.owns
        ? `owns schema "${schema}" (or is a member of its owner), so it may change every table`
        : "is a member of pg_write_all_data, so it may change every table";
    throw new InvalidArgumentError(
      `role "${role}" ${why}: the application role must be an ordinary role other than the one that runs migrations`,
      data,
    );
  }
}
