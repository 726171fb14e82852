import type { Database, Statement } from "better-sqlite3";

/**
 * Pages a projection may add to the WAL between commits allowed to run SQLite's automatic
 * checkpoint (counted as one per document written plus one for the checkpoint row): the default
 * `wal_autocheckpoint`, so the WAL stays about as bounded as SQLite keeps it.
 */
export const PROJECTION_CHECKPOINT_EVERY = 1_000;

/**
 * Runs projection commits at their own `synchronous` level on a connection that may be the event
 * store's. With the lighter level (NORMAL, no fsync of its own) a commit also skips the automatic
 * WAL checkpoint, which would fsync the WAL and the database file inside the commit: the appends
 * on the same file, which fsync anyway, run it. So that a projection writing alone (a rebuild with
 * no appends) cannot grow the WAL without bound, one commit in every
 * {@link PROJECTION_CHECKPOINT_EVERY} documents keeps the connection's checkpoint setting.
 * Pragmas are prepared once: parsing them on every commit cost as much as the commit's writes.
 */
export class CommitPragmas {
  readonly #db: Database;
  readonly #wanted: number;
  readonly #skipCheckpoints: boolean;
  readonly #readSynchronous: Statement;
  readonly #readAutocheckpoint: Statement;
  readonly #set = new Map<string, Statement>();
  #pagesSinceCheckpoint = 0;

  /** `wanted` and `fullLevel` are PRAGMA synchronous levels as SQLite reports them (1 NORMAL, 2 FULL). */
  constructor(db: Database, wanted: number, fullLevel: number) {
    this.#db = db;
    this.#wanted = wanted;
    this.#skipCheckpoints = wanted < fullLevel;
    this.#readSynchronous = db.prepare("PRAGMA synchronous").pluck();
    this.#readAutocheckpoint = db.prepare("PRAGMA wal_autocheckpoint").pluck();
  }

  /** Runs `commit` (synchronous) with the projection's pragmas, then restores the connection's. */
  run(documents: number, commit: () => void): void {
    const synchronous = this.#readSynchronous.get() as number;
    this.#pagesSinceCheckpoint += 1 + documents;
    let autocheckpoint = 0;
    if (this.#skipCheckpoints && this.#pagesSinceCheckpoint < PROJECTION_CHECKPOINT_EVERY) {
      autocheckpoint = this.#readAutocheckpoint.get() as number;
    } else {
      this.#pagesSinceCheckpoint = 0;
    }
    if (synchronous === this.#wanted && autocheckpoint === 0) {
      commit();
      return;
    }
    if (synchronous !== this.#wanted) this.#pragma("synchronous", this.#wanted);
    if (autocheckpoint !== 0) this.#pragma("wal_autocheckpoint", 0);
    try {
      commit();
    } finally {
      if (synchronous !== this.#wanted) this.#pragma("synchronous", synchronous);
      if (autocheckpoint !== 0) this.#pragma("wal_autocheckpoint", autocheckpoint);
    }
  }

  #pragma(name: string, value: number): void {
    const text = `PRAGMA ${name} = ${value}`;
    let statement = this.#set.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#set.set(text, statement);
    }
    statement.run();
  }
}
