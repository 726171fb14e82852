import {
  assertStreamName,
  type JsonValue,
  ShuttingDownError,
  type Snapshot,
  type SnapshotPurge,
  type SnapshotStore,
  StreamPurgedError,
  validateSnapshot,
} from "@granary/core";
import type { Database, Statement } from "better-sqlite3";
import { openDatabase } from "./database.js";
import { type ResolvedSqliteOptions, resolveSqliteOptions, type SqliteStoreOptions } from "./sqlite-options.js";

interface SnapshotRow {
  readonly version: number;
  readonly snapshot_version: number;
  readonly state: string;
  readonly timestamp: string;
}

interface PurgeRow {
  readonly purged_at: string;
  readonly reason: string;
}

interface SaveParams {
  readonly namespace: string;
  readonly stream: string;
  readonly version: number;
  readonly snapshotVersion: number;
  readonly state: string;
  readonly timestamp: string;
}

const COLUMNS = "version, snapshot_version, state, timestamp";

/**
 * Snapshots in the same SQLite file as the events (table `snapshots`), one row per snapshot taken
 * (`load` reads the newest, `loadAtOrBelow` an older one). A save is a single autocommit statement
 * (snapshots are a cache, so they skip the group-commit queue) that also checks, in the same
 * statement, that neither the event store's tombstone nor a snapshot purge exists for the stream.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  readonly #options: ResolvedSqliteOptions;
  readonly #db: Database;
  readonly #save: Statement<[SaveParams]>;
  readonly #load: Statement<[string, string], SnapshotRow>;
  readonly #loadAtOrBelow: Statement<[string, string, number, number], SnapshotRow>;
  readonly #delete: Statement<[string, string]>;
  readonly #purgeOf: Statement<[{ namespace: string; stream: string }], PurgeRow>;
  readonly #purge: (stream: string, purge: SnapshotPurge) => void;
  #closed = false;

  /** @throws InvalidConfigurationError for invalid options */
  constructor(options: SqliteStoreOptions = {}) {
    this.#options = resolveSqliteOptions(options);
    this.#db = openDatabase(this.#options);
    this.#save = this.#db.prepare(
      `INSERT INTO snapshots (namespace, stream, version, snapshot_version, state, timestamp)
       SELECT @namespace, @stream, @version, @snapshotVersion, @state, @timestamp
       WHERE NOT EXISTS (SELECT 1 FROM streams WHERE namespace = @namespace AND stream = @stream AND purged_at IS NOT NULL)
         AND NOT EXISTS (SELECT 1 FROM snapshot_purges WHERE namespace = @namespace AND stream = @stream)
       ON CONFLICT (namespace, stream, version) DO UPDATE SET snapshot_version = excluded.snapshot_version,
         state = excluded.state, timestamp = excluded.timestamp`,
    );
    this.#load = this.#db.prepare(
      `SELECT ${COLUMNS} FROM snapshots WHERE namespace = ? AND stream = ? ORDER BY version DESC LIMIT 1`,
    );
    this.#loadAtOrBelow = this.#db.prepare(
      `SELECT ${COLUMNS} FROM snapshots WHERE namespace = ? AND stream = ? AND version <= ? AND snapshot_version = ?
       ORDER BY version DESC LIMIT 1`,
    );
    this.#delete = this.#db.prepare("DELETE FROM snapshots WHERE namespace = ? AND stream = ?");
    this.#purgeOf = this.#db.prepare(
      `SELECT purged_at, purge_reason AS reason FROM streams
         WHERE namespace = @namespace AND stream = @stream AND purged_at IS NOT NULL
       UNION ALL SELECT purged_at, reason FROM snapshot_purges WHERE namespace = @namespace AND stream = @stream LIMIT 1`,
    );
    const markPurged = this.#db.prepare(
      "INSERT INTO snapshot_purges (namespace, stream, purged_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    );
    this.#purge = this.#db.transaction((stream: string, purge: SnapshotPurge) => {
      markPurged.run(this.#options.namespace, stream, purge.purgedAt, purge.reason);
      this.#delete.run(this.#options.namespace, stream);
    });
  }

  async save(snapshot: Snapshot): Promise<void> {
    validateSnapshot(snapshot);
    this.#assertOpen();
    const namespace = this.#options.namespace;
    const { changes } = this.#save.run({
      namespace,
      stream: snapshot.stream,
      version: snapshot.version,
      snapshotVersion: snapshot.snapshotVersion,
      state: JSON.stringify(snapshot.state),
      timestamp: snapshot.timestamp,
    });
    if (changes === 0) {
      const purge = this.#purgeOf.get({ namespace, stream: snapshot.stream });
      throw new StreamPurgedError(snapshot.stream, purge?.purged_at ?? "", purge?.reason ?? "");
    }
  }

  /** The newest snapshot; one whose state no longer parses is treated as absent (replay rebuilds it). */
  async load(stream: string): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    this.#assertOpen();
    return snapshotOf(stream, this.#load.get(this.#options.namespace, stream));
  }

  async loadAtOrBelow(stream: string, maxVersion: number, snapshotVersion: number): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    this.#assertOpen();
    return snapshotOf(stream, this.#loadAtOrBelow.get(this.#options.namespace, stream, maxVersion, snapshotVersion));
  }

  async delete(stream: string): Promise<void> {
    assertStreamName(stream);
    this.#assertOpen();
    this.#delete.run(this.#options.namespace, stream);
  }

  async purge(stream: string, purge: SnapshotPurge): Promise<void> {
    assertStreamName(stream);
    this.#assertOpen();
    this.#purge(stream, purge);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShuttingDownError("the SQLite snapshot store");
  }
}

function snapshotOf(stream: string, row: SnapshotRow | undefined): Snapshot | undefined {
  if (!row) return undefined;
  let state: JsonValue;
  try {
    state = JSON.parse(row.state) as JsonValue;
  } catch {
    return undefined;
  }
  return { stream, version: row.version, snapshotVersion: row.snapshot_version, state, timestamp: row.timestamp };
}
