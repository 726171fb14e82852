import {
  type Checkpoint,
  checkCommit,
  checkListOptions,
  type DocumentPage,
  InvalidConfigurationError,
  type JsonValue,
  type ListDocumentsOptions,
  type ProjectionCommit,
  type ProjectionStore,
  ShuttingDownError,
} from "@granary/core";
import type { Database, Statement } from "better-sqlite3";
import { CommitPragmas } from "./commit-pragmas.js";
import { openDatabase } from "./database.js";
import {
  type ResolvedSqliteOptions,
  resolveSqliteOptions,
  type SqliteStoreOptions,
  SqliteSynchronous,
} from "./sqlite-options.js";

export interface SqliteProjectionStoreOptions extends SqliteStoreOptions {
  /** An open connection to share (the event store's); closing this store then leaves it open. */
  readonly database?: Database;
  /**
   * `PRAGMA synchronous` of projection commits. `NORMAL` (the default) skips the fsync: a commit is
   * still atomic (documents, handler writes and checkpoint together), survives a process crash, and
   * reaches the disk with the next fsync of the file (the event store's next append); a power loss
   * can only take the projection back to an earlier checkpoint together with its documents, and it
   * then folds those events again — derived data, never an acknowledged event. With `NORMAL` a
   * commit also leaves the WAL checkpoint (two fsyncs) to the appends, except one commit per
   * 1,000 documents (see commit-pragmas.ts). `FULL` fsyncs each and checkpoints as SQLite does.
   * @default "NORMAL"
   */
  readonly commitSynchronous?: SqliteSynchronous;
}

/** PRAGMA synchronous levels as SQLite reports them. */
const SYNCHRONOUS_LEVEL: Record<SqliteSynchronous, number> = { NORMAL: 1, FULL: 2 };

/**
 * Created on open, idempotently, under the write lock (like the migrations). Kept out of the event
 * store's migration list: the read side may be added to or dropped from a database at any time.
 */
const PROJECTION_SCHEMA = `
  CREATE TABLE IF NOT EXISTS projection_checkpoints (
    namespace  TEXT    NOT NULL,
    projection TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    epoch      INTEGER NOT NULL,
    ready      INTEGER NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (namespace, projection)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS projection_documents (
    namespace  TEXT NOT NULL,
    projection TEXT NOT NULL,
    key        TEXT NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (namespace, projection, key)
  ) STRICT, WITHOUT ROWID;
`;

interface CheckpointRow {
  readonly projection: string;
  readonly position: number;
  readonly epoch: number;
  readonly ready: number;
}

interface DocumentRow {
  readonly key: string;
  readonly document: string;
}

/**
 * Projection documents and checkpoints in the event store's SQLite file. A commit is one
 * `BEGIN IMMEDIATE` transaction that checks the stored checkpoint (epoch, then position), writes the
 * documents, runs the handler's own writes and moves the checkpoint: all of it or none survives a
 * crash. `transaction` callbacks get the better-sqlite3 Database and must be synchronous.
 */
export class SqliteProjectionStore implements ProjectionStore {
  readonly namespace: string;
  readonly #db: Database;
  readonly #s: ReturnType<typeof prepare>;
  readonly #commit: (projection: string, commit: ProjectionCommit) => void;
  readonly #ownsDatabase: boolean;
  #closed = false;

  /**
   * Opens its own connection to `path`, or with `database` shares an open connection (the event
   * store's, from {@link SqliteEventStore.openProjectionStore}; then closing this store leaves it open).
   * @throws InvalidConfigurationError for invalid options
   */
  constructor(options: SqliteProjectionStoreOptions = {}) {
    const resolved: ResolvedSqliteOptions = resolveSqliteOptions(options);
    const commitSynchronous = options.commitSynchronous ?? SqliteSynchronous.Normal;
    if (!Object.values(SqliteSynchronous).includes(commitSynchronous)) {
      throw new InvalidConfigurationError(
        "commitSynchronous",
        `expected "FULL" or "NORMAL", got ${JSON.stringify(commitSynchronous)}`,
      );
    }
    this.namespace = resolved.namespace;
    this.#ownsDatabase = options.database === undefined;
    this.#db = options.database ?? openDatabase(resolved);
    try {
      this.#db.transaction(() => this.#db.exec(PROJECTION_SCHEMA)).immediate();
    } catch (error) {
      if (this.#ownsDatabase) this.#db.close();
      throw error;
    }
    this.#s = prepare(this.#db);
    const run = this.#db.transaction((projection: string, commit: ProjectionCommit) => {
      const row = this.#s.checkpoint.get(this.namespace, projection);
      const next = checkCommit(projection, row && toCheckpoint(row), commit);
      for (const [key, document] of commit.documents ?? []) {
        if (document === null) this.#s.deleteDocument.run(this.namespace, projection, key);
        else this.#s.upsertDocument.run(this.namespace, projection, key, JSON.stringify(document));
      }
      if (commit.transaction) {
        const result = commit.transaction(this.#db);
        if (result && typeof (result as Promise<void>).then === "function") {
          throw new TypeError(
            "a SQLite projection transaction must be synchronous (better-sqlite3): do not return a promise from it",
          );
        }
      }
      this.#s.upsertCheckpoint.run(
        this.namespace,
        projection,
        next.position,
        next.epoch,
        next.ready ? 1 : 0,
        new Date().toISOString(),
      );
    });
    // The connection may be the event store's (FULL for appends): the pragmas are switched around
    // each commit only. better-sqlite3 is synchronous, so no append can run in between.
    const pragmas = new CommitPragmas(this.#db, SYNCHRONOUS_LEVEL[commitSynchronous], SYNCHRONOUS_LEVEL.FULL);
    this.#commit = (projection, commit) =>
      pragmas.run(commit.documents?.size ?? 0, () => run.immediate(projection, commit));
  }

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    this.#assertOpen();
    const row = this.#s.checkpoint.get(this.namespace, projection);
    return row && toCheckpoint(row);
  }

  async commit(projection: string, commit: ProjectionCommit): Promise<void> {
    this.#assertOpen();
    this.#commit(projection, commit);
  }

  async getDocuments(projection: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    this.#assertOpen();
    const out = new Map<string, JsonValue>();
    if (keys.length === 0) return out;
    for (const row of this.#s.documents.all(this.namespace, projection, JSON.stringify(keys))) {
      out.set(row.key, JSON.parse(row.document) as JsonValue);
    }
    return out;
  }

  async getDocument(projection: string, key: string): Promise<JsonValue | undefined> {
    this.#assertOpen();
    const row = this.#s.document.get(this.namespace, projection, key);
    return row ? (JSON.parse(row.document) as JsonValue) : undefined;
  }

  async listDocuments(projection: string, options: ListDocumentsOptions): Promise<DocumentPage> {
    this.#assertOpen();
    checkListOptions(options);
    const prefix = options.prefix ?? "";
    // substr instead of LIKE: keys may contain % and _. Every key is > "" except "" itself.
    const rows = this.#s.list.all(
      this.namespace,
      projection,
      options.after ?? "",
      prefix.length,
      prefix,
      options.limit + 1,
    );
    const page = rows.slice(0, options.limit);
    return {
      items: page.map((row) => ({ key: row.key, document: JSON.parse(row.document) as JsonValue })),
      next: rows.length > options.limit ? page.at(-1)?.key : undefined,
    };
  }

  async countDocuments(projection: string): Promise<number> {
    this.#assertOpen();
    return this.#s.count.get(this.namespace, projection)?.n ?? 0;
  }

  async checkpoints(): Promise<Map<string, Checkpoint>> {
    this.#assertOpen();
    return new Map(this.#s.checkpoints.all(this.namespace).map((row) => [row.projection, toCheckpoint(row)]));
  }

  async drop(projection: string): Promise<void> {
    this.#assertOpen();
    this.#db.transaction(() => {
      this.#s.dropDocuments.run(this.namespace, projection);
      this.#s.dropCheckpoint.run(this.namespace, projection);
    })();
  }

  async headPosition(): Promise<number> {
    this.#assertOpen();
    return this.#s.head.get(this.namespace)?.head ?? 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDatabase) this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed || !this.#db.open) throw new ShuttingDownError("the SQLite projection store");
  }
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return { position: row.position, epoch: row.epoch, ready: row.ready === 1 };
}

function prepare(db: Database) {
  const where = "namespace = ? AND projection = ?";
  return {
    checkpoint: db.prepare(
      `SELECT projection, position, epoch, ready FROM projection_checkpoints WHERE ${where}`,
    ) as Statement<[string, string], CheckpointRow>,
    checkpoints: db.prepare(
      "SELECT projection, position, epoch, ready FROM projection_checkpoints WHERE namespace = ?",
    ) as Statement<[string], CheckpointRow>,
    upsertCheckpoint: db.prepare(
      `INSERT INTO projection_checkpoints (namespace, projection, position, epoch, ready, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, projection) DO UPDATE SET position = excluded.position, epoch = excluded.epoch,
         ready = excluded.ready, updated_at = excluded.updated_at`,
    ) as Statement<[string, string, number, number, number, string]>,
    upsertDocument: db.prepare(
      `INSERT INTO projection_documents (namespace, projection, key, document) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, projection, key) DO UPDATE SET document = excluded.document`,
    ) as Statement<[string, string, string, string]>,
    deleteDocument: db.prepare(`DELETE FROM projection_documents WHERE ${where} AND key = ?`) as Statement<
      [string, string, string]
    >,
    document: db.prepare(`SELECT key, document FROM projection_documents WHERE ${where} AND key = ?`) as Statement<
      [string, string, string],
      DocumentRow
    >,
    documents: db.prepare(
      `SELECT key, document FROM projection_documents WHERE ${where} AND key IN (SELECT value FROM json_each(?))`,
    ) as Statement<[string, string, string], DocumentRow>,
    list: db.prepare(
      `SELECT key, document FROM projection_documents
       WHERE namespace = ? AND projection = ? AND key > ? AND substr(key, 1, ?) = ?
       ORDER BY key LIMIT ?`,
    ) as Statement<[string, string, string, number, string, number], DocumentRow>,
    count: db.prepare(`SELECT count(*) AS n FROM projection_documents WHERE ${where}`) as Statement<
      [string, string],
      { n: number }
    >,
    dropDocuments: db.prepare(`DELETE FROM projection_documents WHERE ${where}`) as Statement<[string, string]>,
    dropCheckpoint: db.prepare(`DELETE FROM projection_checkpoints WHERE ${where}`) as Statement<[string, string]>,
    head: db.prepare("SELECT max(position) AS head FROM events WHERE namespace = ?") as Statement<
      [string],
      { head: number | null }
    >,
  };
}
