import { assertSubject, type KeyStore, newDataKey, type SubjectKey } from "@granary/core";
import { Connection } from "./internal/connection.js";
import { keyTableLockKey, LOCK_CLASS } from "./internal/lock-keys.js";
import { type PostgresStoreOptions, resolvePostgresOptions } from "./postgres-options.js";

export type PostgresKeyStoreOptions = PostgresStoreOptions;

interface KeyRow {
  readonly key: Buffer | null;
  readonly created_at: string | null;
  readonly destroyed_at: string | null;
}

/**
 * Data keys in PostgreSQL, table `<schema>.subject_keys` (created at first use, beside but apart
 * from the events: grant the application role access to it separately if you split duties).
 * Creation is `INSERT ... ON CONFLICT DO NOTHING`, so concurrent silos agree on one key; destroying
 * is one upsert that sets the key to NULL and records when, so it is permanent and remembered.
 *
 * After a destroy the store runs a plain `VACUUM` of the table, so the dead row version holding the
 * key is pruned instead of waiting for autovacuum. PostgreSQL does not zero freed page space, and the
 * WAL (and any WAL archive or base backup) keeps the key until it is recycled: expire those on a
 * schedule that matches your erasure deadline, or `VACUUM FULL` the table in a maintenance window.
 *
 * @example
 * const keys = new PostgresKeyStore({ connectionString: process.env.DATABASE_URL });
 */
export class PostgresKeyStore implements KeyStore {
  readonly #db: Connection;
  readonly #namespace: string;
  readonly #schema: string;
  readonly #sql: ReturnType<typeof statements>;
  #table: Promise<void> | undefined;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: PostgresKeyStoreOptions) {
    const resolved = resolvePostgresOptions(options);
    this.#db = new Connection(resolved, "PostgresKeyStore");
    this.#namespace = resolved.namespace;
    this.#schema = resolved.schema;
    this.#sql = statements(this.#db.s);
  }

  async getOrCreate(subject: string): Promise<SubjectKey> {
    assertSubject(subject);
    return this.#run(async () => {
      const existing = await this.#select(subject);
      if (existing) return existing;
      const { rows } = await this.#db.pool.query<KeyRow>(this.#sql.insert, [
        this.#namespace,
        subject,
        Buffer.from(newDataKey()),
      ]);
      // Nothing returned: another writer created (or destroyed) it first; read what it wrote.
      const row = rows[0];
      return row ? toSubjectKey(subject, row) : ((await this.#select(subject)) as SubjectKey);
    });
  }

  async get(subject: string): Promise<SubjectKey | undefined> {
    assertSubject(subject);
    return this.#run(() => this.#select(subject));
  }

  async destroy(subject: string): Promise<SubjectKey & { readonly status: "destroyed" }> {
    assertSubject(subject);
    return this.#run(async () => {
      const { rows } = await this.#db.pool.query<KeyRow>(this.#sql.destroy, [this.#namespace, subject]);
      // Prune the dead row version that still holds the key now rather than at the next autovacuum.
      await this.#db.pool.query(this.#sql.vacuum);
      return toSubjectKey(subject, rows[0] as KeyRow) as SubjectKey & { readonly status: "destroyed" };
    });
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async #select(subject: string): Promise<SubjectKey | undefined> {
    const { rows } = await this.#db.pool.query<KeyRow>(this.#sql.select, [this.#namespace, subject]);
    const row = rows[0];
    return row ? toSubjectKey(subject, row) : undefined;
  }

  #run<T>(operation: () => Promise<T>): Promise<T> {
    return this.#db.run(async () => {
      await this.#ensureTable();
      return operation();
    });
  }

  /** Its own table, created once under an advisory lock (not an event store migration: keys live apart). */
  #ensureTable(): Promise<void> {
    this.#table ??= (async () => {
      const client = await this.#db.pool.connect();
      try {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_CLASS, keyTableLockKey(this.#schema)]);
        await client.query(this.#sql.create);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    })().catch((error: unknown) => {
      this.#table = undefined;
      throw error;
    });
    return this.#table;
  }
}

function toSubjectKey(subject: string, row: KeyRow): SubjectKey {
  if (row.destroyed_at !== null) return { status: "destroyed", subject, destroyedAt: row.destroyed_at };
  return { status: "active", subject, key: new Uint8Array(row.key as Buffer), createdAt: row.created_at as string };
}

function statements(s: string) {
  const columns = `key, ${s}.iso8601(created_at) AS created_at, ${s}.iso8601(destroyed_at) AS destroyed_at`;
  return {
    create: `CREATE TABLE IF NOT EXISTS ${s}.subject_keys (
      namespace    text NOT NULL,
      subject      text NOT NULL,
      key          bytea,
      created_at   timestamptz,
      destroyed_at timestamptz,
      PRIMARY KEY (namespace, subject),
      CHECK ((key IS NULL) = (destroyed_at IS NOT NULL)))`,
    select: `SELECT ${columns} FROM ${s}.subject_keys WHERE namespace = $1 AND subject = $2`,
    insert: `INSERT INTO ${s}.subject_keys (namespace, subject, key, created_at) VALUES ($1, $2, $3, now())
      ON CONFLICT (namespace, subject) DO NOTHING RETURNING ${columns}`,
    destroy: `INSERT INTO ${s}.subject_keys AS k (namespace, subject, destroyed_at) VALUES ($1, $2, now())
      ON CONFLICT (namespace, subject) DO UPDATE
        SET key = NULL, destroyed_at = COALESCE(k.destroyed_at, EXCLUDED.destroyed_at)
      RETURNING ${columns}`,
    vacuum: `VACUUM ${s}.subject_keys`,
  };
}
