import {
  assertStreamName,
  type JsonValue,
  type Snapshot,
  type SnapshotPurge,
  type SnapshotStore,
  StreamPurgedError,
  validateSnapshot,
} from "@granary/core";
import { Connection } from "./internal/connection.js";
import { type PostgresSnapshotStoreOptions, resolvePostgresOptions } from "./postgres-options.js";

interface SnapshotRow {
  readonly version: string;
  readonly snapshot_version: number;
  readonly state: JsonValue;
  readonly timestamp: string;
}

/**
 * Snapshots in PostgreSQL (table `<schema>.snapshots`, state as jsonb), one row per snapshot taken
 * (`load` reads the newest, `loadAtOrBelow` an older one, for stateAt). Every write is a call of
 * one of Granary's functions (so an application role that may only read and execute them works,
 * see grantApplicationRole): saves go through `<schema>.save_snapshot`, which refuses a stream that
 * has a tombstone or a snapshot purge, under a per-stream lock that purges take too. Purging a stream through PostgresEventStore deletes its
 * snapshots in the same transaction.
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
    const { rows } = await this.#db.run(() =>
      this.#db.pool.query<{ purged_at: string; reason: string }>(this.#sql.save, [
        this.#namespace,
        snapshot.stream,
        snapshot.version,
        snapshot.snapshotVersion,
        state,
        snapshot.timestamp,
      ]),
    );
    const purged = rows[0];
    if (purged) throw new StreamPurgedError(snapshot.stream, purged.purged_at, purged.reason);
  }

  async load(stream: string): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<SnapshotRow>(this.#sql.load, [this.#namespace, stream]);
      return snapshotOf(stream, rows[0]);
    });
  }

  async loadAtOrBelow(stream: string, maxVersion: number, snapshotVersion: number): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<SnapshotRow>(this.#sql.loadAtOrBelow, [
        this.#namespace,
        stream,
        maxVersion,
        snapshotVersion,
      ]);
      return snapshotOf(stream, rows[0]);
    });
  }

  async delete(stream: string): Promise<void> {
    assertStreamName(stream);
    await this.#db.run(() => this.#db.pool.query(this.#sql.delete, [this.#namespace, stream]));
  }

  async purge(stream: string, purge: SnapshotPurge): Promise<void> {
    assertStreamName(stream);
    await this.#db.run(() =>
      this.#db.pool.query(this.#sql.purge, [this.#namespace, stream, purge.purgedAt, purge.reason]),
    );
  }

  /** Lets operations in flight finish, then ends the pool if the store opened it. */
  async close(): Promise<void> {
    await this.#db.close();
  }
}

function snapshotOf(stream: string, row: SnapshotRow | undefined): Snapshot | undefined {
  if (!row) return undefined;
  return {
    stream,
    version: Number(row.version),
    snapshotVersion: row.snapshot_version,
    state: row.state,
    timestamp: row.timestamp,
  };
}

function statements(s: string) {
  const columns = `version, snapshot_version, state, ${s}.iso8601("timestamp") AS "timestamp"`;
  return {
    save: `SELECT purged_at, reason FROM ${s}.save_snapshot($1, $2, $3, $4, $5::jsonb, $6)`,
    load: `SELECT ${columns} FROM ${s}.snapshots WHERE namespace = $1 AND stream = $2 ORDER BY version DESC LIMIT 1`,
    loadAtOrBelow: `SELECT ${columns} FROM ${s}.snapshots
      WHERE namespace = $1 AND stream = $2 AND version <= $3 AND snapshot_version = $4 ORDER BY version DESC LIMIT 1`,
    delete: `SELECT ${s}.delete_snapshots($1, $2)`,
    purge: `SELECT ${s}.purge_snapshots($1, $2, $3, $4)`,
  };
}
