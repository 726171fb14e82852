import { assertSubject, type KeyStore, newDataKey, type SubjectKey } from "@granary/core";
import { Connection } from "./internal/connection.js";
import { KeyDestroyedChannel } from "./internal/key-destroyed-channel.js";
import { type PostgresLogger, type PostgresStoreOptions, resolvePostgresOptions } from "./postgres-options.js";

export type PostgresKeyStoreOptions = PostgresStoreOptions;

interface KeyRow {
  readonly key: Buffer | null;
  readonly created_at: string | null;
  readonly destroyed_at: string | null;
}

/**
 * Data keys in PostgreSQL, table `<schema>.subject_keys` (created by the event store's migrations,
 * beside but apart from the events). Creation is an insert-if-absent (`create_subject_key`), so
 * concurrent silos agree on one key; destroying (`destroy_subject_key`) is one upsert that sets the
 * key to NULL and records when, so it is permanent and remembered. Both are Granary functions, so
 * the store also works as a least-privilege application role (see grantApplicationRole).
 *
 * After a destroy the store runs a plain `VACUUM` of the table, so the dead row version holding the
 * key is pruned instead of waiting for autovacuum. PostgreSQL does not zero freed page space, and the
 * WAL (and any WAL archive or base backup) keeps the key until it is recycled: expire those on a
 * schedule that matches your erasure deadline, or `VACUUM FULL` the table in a maintenance window.
 * Only the table's owner may VACUUM it before PostgreSQL 17 (from 17 on, grantApplicationRole
 * grants the application role MAINTAIN on it); otherwise PostgreSQL skips it with a warning, which
 * the store passes to its logger once, and the key waits for autovacuum.
 *
 * @example
 * const keys = new PostgresKeyStore({ connectionString: process.env.DATABASE_URL });
 */
export class PostgresKeyStore implements KeyStore {
  readonly #db: Connection;
  readonly #namespace: string;
  readonly #logger: PostgresLogger;
  readonly #sql: ReturnType<typeof statements>;
  readonly #destroyed: KeyDestroyedChannel;
  #vacuumSkipReported = false;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: PostgresKeyStoreOptions) {
    const resolved = resolvePostgresOptions(options);
    this.#db = new Connection(resolved, "PostgresKeyStore");
    this.#namespace = resolved.namespace;
    this.#logger = resolved.logger;
    this.#sql = statements(this.#db.s);
    this.#destroyed = new KeyDestroyedChannel(this.#db.pool, resolved.schema, this.#namespace, this.#logger);
  }

  async getOrCreate(subject: string): Promise<SubjectKey> {
    assertSubject(subject);
    return this.#db.run(async () => {
      const existing = await this.#select(subject);
      if (existing) return existing;
      const { rows } = await this.#db.pool.query<KeyRow>(this.#sql.create, [
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
    return this.#db.run(() => this.#select(subject));
  }

  async destroy(subject: string): Promise<SubjectKey & { readonly status: "destroyed" }> {
    assertSubject(subject);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<KeyRow>(this.#sql.destroy, [this.#namespace, subject]);
      const destroyed = toSubjectKey(subject, rows[0] as KeyRow) as SubjectKey & { readonly status: "destroyed" };
      await this.#destroyed.notify(subject, destroyed.destroyedAt);
      await this.#vacuum();
      return destroyed;
    });
  }

  /** Destructions by any store on this database and namespace, through LISTEN/NOTIFY (at most once). */
  watchDestroyed(listener: (subject: string, destroyedAt: string) => void): () => void {
    return this.#destroyed.watch(listener);
  }

  async close(): Promise<void> {
    await this.#destroyed.close();
    await this.#db.close();
  }

  async #select(subject: string): Promise<SubjectKey | undefined> {
    const { rows } = await this.#db.pool.query<KeyRow>(this.#sql.select, [this.#namespace, subject]);
    const row = rows[0];
    return row ? toSubjectKey(subject, row) : undefined;
  }

  /** Prunes the dead row version that still holds the key now rather than at the next autovacuum. */
  async #vacuum(): Promise<void> {
    const client = await this.#db.pool.connect();
    // A role that may not VACUUM the table gets a WARNING notice, not an error.
    const skipped: string[] = [];
    const onNotice = (notice: {
      readonly severity?: string | undefined;
      readonly message?: string | undefined;
    }): void => {
      if (notice.severity === "WARNING") skipped.push(notice.message ?? "");
    };
    client.on("notice", onNotice);
    try {
      await client.query(this.#sql.vacuum);
    } finally {
      client.off("notice", onNotice);
      client.release();
    }
    if (skipped.length > 0 && !this.#vacuumSkipReported) {
      this.#vacuumSkipReported = true;
      this.#logger.warn(
        { table: "subject_keys", notice: skipped[0] },
        "PostgreSQL skipped the VACUUM after a key destroy (this role may not vacuum the key table): destroyed keys stay in dead row versions until autovacuum; on PostgreSQL 17+ run grantApplicationRole again (it grants MAINTAIN), or schedule VACUUM as the table owner",
      );
    }
  }
}

function toSubjectKey(subject: string, row: KeyRow): SubjectKey {
  if (row.destroyed_at !== null) return { status: "destroyed", subject, destroyedAt: row.destroyed_at };
  return { status: "active", subject, key: new Uint8Array(row.key as Buffer), createdAt: row.created_at as string };
}

function statements(s: string) {
  const columns = `key, ${s}.iso8601(created_at) AS created_at, ${s}.iso8601(destroyed_at) AS destroyed_at`;
  return {
    select: `SELECT ${columns} FROM ${s}.subject_keys WHERE namespace = $1 AND subject = $2`,
    create: `SELECT key, created_at, destroyed_at FROM ${s}.create_subject_key($1, $2, $3)`,
    destroy: `SELECT key, created_at, destroyed_at FROM ${s}.destroy_subject_key($1, $2)`,
    vacuum: `VACUUM ${s}.subject_keys`,
  };
}
