import { assertStreamName, type JsonValue, type Snapshot, type SnapshotStore, validateSnapshot } from "@granary/core";
import { Connection } from "./internal/connection.js";
import { type PostgresSnapshotStoreOptions, resolvePostgresOptions } from "./postgres-options.js";

interface SnapshotRow {
  readonly version: string;
  readonly snapshot_version: number;
  readonly state: JsonValue;
  readonly timestamp: string;
}

/**
 * Snapshots in PostgreSQL (table `<schema>.snapshots`, state as jsonb), one per stream: a save
 * older than the stored snapshot is ignored. Purging a stream through PostgresEventStore deletes
 * its snapshot in the same transaction.
 *
 * @example
 * const snapshots = new PostgresSnapshotStore({ connectionString: process.env.DATABASE_URL });
 */
export class PostgresSnapshotStore implements SnapshotStore {
  readonly #db: Connection;
  readonly #namespace: string;
  readonly #sql: ReturnType<typeof statements>;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: PostgresSnapshotStoreOptions) {
    const resolved = resolvePostgresOptions(options);
    this.#db = new Connection(resolved, "PostgresSnapshotStore");
    this.#namespace = resolved.namespace;
    this.#sql = statements(this.#db.s);
  }

  async save(snapshot: Snapshot): Promise<void> {
    validateSnapshot(snapshot);
    // Serialized now: pg would turn a top-level array into a PostgreSQL array, not JSON.
    const state = JSON.stringify(snapshot.state);
    await this.#db.run(() =>
      this.#db.pool.query(this.#sql.save, [
        this.#namespace,
        snapshot.stream,
        snapshot.version,
        snapshot.snapshotVersion,
        state,
        snapshot.timestamp,
      ]),
    );
  }

  async load(stream: string): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<SnapshotRow>(this.#sql.load, [this.#namespace, stream]);
      const row = rows[0];
      if (!row) return undefined;
      return {
        stream,
        version: Number(row.version),
        snapshotVersion: row.snapshot_version,
        state: row.state,
        timestamp: row.timestamp,
      };
    });
  }

  async delete(stream: string): Promise<void> {
    assertStreamName(stream);
    await this.#db.run(() => this.#db.pool.query(this.#sql.delete, [this.#namespace, stream]));
  }

  /** Lets operations in flight finish, then ends the pool if the store opened it. */
  async close(): Promise<void> {
    await this.#db.close();
  }
}

function statements(s: string) {
  return {
    save: `INSERT INTO ${s}.snapshots AS sn (namespace, stream, version, snapshot_version, state, "timestamp")
      VALUES ($1, $2, $3, $4, $5::jsonb, $6)
      ON CONFLICT (namespace, stream) DO UPDATE
        SET version = EXCLUDED.version, snapshot_version = EXCLUDED.snapshot_version, state = EXCLUDED.state,
            "timestamp" = EXCLUDED."timestamp", saved_at = now()
        WHERE sn.version <= EXCLUDED.version`,
    load: `SELECT version, snapshot_version, state, ${s}.iso8601("timestamp") AS "timestamp"
      FROM ${s}.snapshots WHERE namespace = $1 AND stream = $2`,
    delete: `DELETE FROM ${s}.snapshots WHERE namespace = $1 AND stream = $2`,
  };
}
