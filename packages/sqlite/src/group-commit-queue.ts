import { ShuttingDownError } from "@granary/core";
import type { Database, Statement } from "better-sqlite3";

interface Job {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Counters of the group commit, for tests, metrics and benchmarks. */
export interface GroupCommitStats {
  /** Transactions committed. */
  readonly transactions: number;
  /** Jobs (appends, purges) that ran in a committed transaction, successful or refused. */
  readonly jobs: number;
}

/**
 * Group commit: writes queued during one turn of the event loop run in ONE transaction, each inside
 * its own SAVEPOINT so a refused write (version conflict, fenced) rolls back alone and the others
 * still commit. Every caller is settled only after COMMIT returned, so an acknowledged write is
 * durable (with `synchronous=FULL`). One fsync then covers many appends, which is where the
 * throughput comes from: better-sqlite3 is synchronous, so the flush blocks the loop once per batch
 * instead of once per append.
 */
export class GroupCommitQueue {
  readonly #db: Database;
  readonly #onCommit: () => void;
  #pending: Job[] = [];
  #scheduled = false;
  #closed = false;
  #transactions = 0;
  #jobs = 0;

  constructor(db: Database, onCommit: () => void) {
    this.#db = db;
    this.#onCommit = onCommit;
  }

  get stats(): GroupCommitStats {
    return { transactions: this.#transactions, jobs: this.#jobs };
  }

  /** Runs `work` inside the next group transaction; settles after that transaction commits. */
  enqueue<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new ShuttingDownError("the SQLite event store"));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // setImmediate, not a microtask: every append issued in this turn (and in the I/O
        // callbacks of this loop iteration) joins the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now, synchronously. */
  flush(): void {
    this.#scheduled = false;
    const jobs = this.#pending;
    this.#pending = [];
    if (jobs.length === 0) return;
    const outcomes = this.#runInTransaction(jobs);
    for (const [i, job] of jobs.entries()) {
      const outcome = outcomes[i] as Outcome;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    }
  }

  /** Flushes what is queued and refuses further work. */
  close(): void {
    this.#closed = true;
    this.flush();
  }

  #savepoints: { begin: Statement; release: Statement; rollback: Statement } | undefined;

  #runInTransaction(jobs: readonly Job[]): Outcome[] {
    const db = this.#db;
    try {
      db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      return jobs.map(() => ({ ok: false, error }));
    }
    const outcomes: Outcome[] = [];
    // Prepared once: parsing SAVEPOINT/RELEASE per append cost more than the append's own writes.
    this.#savepoints ??= {
      begin: db.prepare("SAVEPOINT granary_write"),
      release: db.prepare("RELEASE granary_write"),
      rollback: db.prepare("ROLLBACK TO granary_write"),
    };
    const savepoint = this.#savepoints;
    for (const job of jobs) {
      savepoint.begin.run();
      try {
        const value = job.work();
        savepoint.release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction: then nothing
        // of this batch was written, and every caller must hear so.
        if (!db.inTransaction) return jobs.map(() => ({ ok: false, error }));
        savepoint.rollback.run();
        savepoint.release.run();
        outcomes.push({ ok: false, error });
      }
    }
    try {
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      return jobs.map(() => ({ ok: false, error }));
    }
    this.#transactions++;
    this.#jobs += jobs.length;
    this.#onCommit();
    return outcomes;
  }
}
