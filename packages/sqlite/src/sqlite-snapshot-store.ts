import {
  assertStreamName,
  type JsonValue,
  ShuttingDownError,
  type Snapshot,
  type SnapshotStore,
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

/**
 * Snapshots in the same SQLite file as the events (table `snapshots`), newest per stream. A save
 * is a single autocommit statement: snapshots are a cache, so they skip the group-commit queue.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  readonly #options: ResolvedSqliteOptions;
  readonly #db: Database;
  readonly #save: Statement<[string, string, number, number, string, string]>;
  readonly #load: Statement<[string, string], SnapshotRow>;
  readonly #delete: Statement<[string, string]>;
  #closed = false;

  /** @throws InvalidConfigurationError for invalid options */
  constructor(options: SqliteStoreOptions = {}) {
    this.#options = resolveSqliteOptions(options);
    this.#db = openDatabase(this.#options);
    // `>=` lets a save at the same version replace the snapshot; an older one changes nothing.
    this.#save = this.#db.prepare(
      `INSERT INTO snapshots (namespace, stream, version, snapshot_version, state, timestamp) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, stream) DO UPDATE SET version = excluded.version,
         snapshot_version = excluded.snapshot_version, state = excluded.state, timestamp = excluded.timestamp
       WHERE excluded.version >= snapshots.version`,
    );
    this.#load = this.#db.prepare(
      "SELECT version, snapshot_version, state, timestamp FROM snapshots WHERE namespace = ? AND stream = ?",
    );
    this.#delete = this.#db.prepare("DELETE FROM snapshots WHERE namespace = ? AND stream = ?");
  }

  async save(snapshot: Snapshot): Promise<void> {
    validateSnapshot(snapshot);
    this.#assertOpen();
    this.#save.run(
      this.#options.namespace,
      snapshot.stream,
      snapshot.version,
      snapshot.snapshotVersion,
      JSON.stringify(snapshot.state),
      snapshot.timestamp,
    );
  }

  /** The newest snapshot; one whose state no longer parses is treated as absent (replay rebuilds it). */
  async load(stream: string): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    this.#assertOpen();
    const row = this.#load.get(this.#options.namespace, stream);
    if (!row) return undefined;
    let state: JsonValue;
    try {
      state = JSON.parse(row.state) as JsonValue;
    } catch {
      return undefined;
    }
    return { stream, version: row.version, snapshotVersion: row.snapshot_version, state, timestamp: row.timestamp };
  }

  async delete(stream: string): Promise<void> {
    assertStreamName(stream);
    this.#assertOpen();
    this.#delete.run(this.#options.namespace, stream);
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
