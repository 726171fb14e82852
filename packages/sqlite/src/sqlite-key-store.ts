import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  assertSubject,
  InvalidConfigurationError,
  type KeyStore,
  newDataKey,
  ShuttingDownError,
  type SubjectKey,
} from "@granary/core";
import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import {
  DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
  DEFAULT_SQLITE_NAMESPACE,
  DEFAULT_SQLITE_SYNCHRONOUS,
  type SqliteStoreOptions,
  SqliteSynchronous,
} from "./sqlite-options.js";

/** Where the standalone silo keeps data keys: a file of its own beside `granary.db`. */
export const DEFAULT_SQLITE_KEY_PATH = "./.granary/keys.db";

interface PendingCreate {
  readonly subject: string;
  readonly resolve: (key: SubjectKey) => void;
  readonly reject: (error: unknown) => void;
}

interface KeyRow {
  readonly key: Uint8Array | null;
  readonly created_at: string | null;
  readonly destroyed_at: string | null;
}

// Own table and no user_version, so the file may also be shared with the event store's migrations.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS granary_subject_keys (
    namespace    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    key          BLOB,
    created_at   TEXT,
    destroyed_at TEXT,
    PRIMARY KEY (namespace, subject),
    CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
  ) STRICT, WITHOUT ROWID;
`;

/**
 * Data keys in SQLite, in a file of their own by default (`keys.db`): keys apart from the events,
 * so a copy of the event database never carries the keys that unlock it.
 *
 * Keys are created in batches: the subjects first seen in one tick share one transaction (and one
 * fsync), as the event store's group commit does, and each caller resolves after that commit.
 *
 * Destroying a key deletes its row (with `secure_delete`, so SQLite zeroes the freed bytes),
 * records the destruction in a new row, and checkpoints the WAL with TRUNCATE, so neither the
 * database file nor its WAL holds the key afterwards. Copies outside the database (backups of the
 * file, the file system's own journal) are the operator's to expire.
 */
export class SqliteKeyStore implements KeyStore {
  readonly #namespace: string;
  readonly #db: Database;
  readonly #insert: Statement<[string, string, Uint8Array, string]>;
  readonly #select: Statement<[string, string], KeyRow>;
  readonly #delete: Statement<[string, string]>;
  readonly #tombstone: Statement<[string, string, string]>;
  readonly #now: () => number;
  #pending: PendingCreate[] = [];
  #closed = false;

  /** @throws InvalidConfigurationError for invalid options */
  constructor(options: SqliteStoreOptions & { readonly now?: () => number } = {}) {
    const path = options.path ?? DEFAULT_SQLITE_KEY_PATH;
    const namespace = options.namespace ?? DEFAULT_SQLITE_NAMESPACE;
    const synchronous = options.synchronous ?? DEFAULT_SQLITE_SYNCHRONOUS;
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS;
    if (typeof path !== "string" || path.trim() === "") {
      throw new InvalidConfigurationError("path", `expected a key database file path, got ${JSON.stringify(path)}`);
    }
    if (typeof namespace !== "string" || namespace === "") {
      throw new InvalidConfigurationError("namespace", `expected a non-empty string, got ${JSON.stringify(namespace)}`);
    }
    if (!Object.values(SqliteSynchronous).includes(synchronous)) {
      throw new InvalidConfigurationError(
        "synchronous",
        `expected "FULL" or "NORMAL", got ${JSON.stringify(synchronous)}`,
      );
    }
    this.#namespace = namespace;
    this.#now = options.now ?? Date.now;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new BetterSqlite3(path);
    try {
      this.#db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma(`synchronous = ${synchronous}`);
      // A destroyed key must not linger in free pages of the file.
      this.#db.pragma("secure_delete = ON");
      this.#db.exec(SCHEMA);
    } catch (error) {
      this.#db.close();
      throw error;
    }
    this.#insert = this.#db.prepare(
      `INSERT INTO granary_subject_keys (namespace, subject, key, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, subject) DO NOTHING`,
    );
    this.#select = this.#db.prepare(
      "SELECT key, created_at, destroyed_at FROM granary_subject_keys WHERE namespace = ? AND subject = ?",
    );
    this.#delete = this.#db.prepare("DELETE FROM granary_subject_keys WHERE namespace = ? AND subject = ?");
    this.#tombstone = this.#db.prepare(
      "INSERT INTO granary_subject_keys (namespace, subject, destroyed_at) VALUES (?, ?, ?)",
    );
  }

  async getOrCreate(subject: string): Promise<SubjectKey> {
    this.#assertOpen();
    assertSubject(subject);
    const existing = this.#read(subject);
    if (existing) return existing;
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#createPending());
      this.#pending.push({ subject, resolve, reject });
    });
  }

  /** One transaction for every key requested since the last one; a subject created meanwhile keeps its key. */
  #createPending(): void {
    const batch = this.#pending;
    this.#pending = [];
    try {
      this.#assertOpen();
      const createdAt = this.#isoNow();
      this.#db
        .transaction(() => {
          for (const { subject } of batch) this.#insert.run(this.#namespace, subject, newDataKey(), createdAt);
        })
        .immediate();
      for (const request of batch) request.resolve(this.#read(request.subject) as SubjectKey);
    } catch (error) {
      for (const request of batch) request.reject(error);
    }
  }

  async get(subject: string): Promise<SubjectKey | undefined> {
    this.#assertOpen();
    assertSubject(subject);
    return this.#read(subject);
  }

  async destroy(subject: string): Promise<SubjectKey & { readonly status: "destroyed" }> {
    this.#assertOpen();
    assertSubject(subject);
    const destroyed = this.#db
      .transaction(() => {
        const row = this.#select.get(this.#namespace, subject);
        if (row?.destroyed_at) return { status: "destroyed", subject, destroyedAt: row.destroyed_at } as const;
        // Delete, then insert the record of the destruction: the key's cell is freed (and zeroed)
        // rather than rewritten in place.
        if (row) this.#delete.run(this.#namespace, subject);
        const destroyedAt = this.#isoNow();
        this.#tombstone.run(this.#namespace, subject, destroyedAt);
        return { status: "destroyed", subject, destroyedAt } as const;
      })
      .immediate();
    // Copy the zeroed pages into the file and empty the WAL, whose older frames still hold the key.
    this.#db.pragma("wal_checkpoint(TRUNCATE)");
    return destroyed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #read(subject: string): SubjectKey | undefined {
    const row = this.#select.get(this.#namespace, subject);
    if (!row) return undefined;
    if (row.destroyed_at !== null) return { status: "destroyed", subject, destroyedAt: row.destroyed_at };
    return {
      status: "active",
      subject,
      key: new Uint8Array(row.key as Uint8Array),
      createdAt: row.created_at as string,
    };
  }

  #isoNow(): string {
    return new Date(this.#now()).toISOString();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShuttingDownError("the SQLite key store");
  }
}
