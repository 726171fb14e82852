/** Counters of the group commit, for tests, metrics and benchmarks (the shape SqliteEventStore uses). */
export interface GroupCommitStats {
  /** Transactions committed by appends: one per batch, or one per append sent alone. */
  readonly transactions: number;
  /** Appends that ran in a committed transaction, accepted or refused. */
  readonly jobs: number;
}

export interface GroupCommitLimits {
  /** Most jobs in one batch. */
  readonly maxBatch: number;
  /** Most payload characters in one batch (a single larger job still goes, alone). */
  readonly maxBatchChars: number;
  /** Batches in flight at once, each on its own connection. */
  readonly maxInFlight: number;
}

export interface QueuedJob {
  /** Its share of the batch's size bound. */
  readonly chars: number;
  readonly reject: (error: unknown) => void;
}

/** Below this many queued jobs, one batch takes them all rather than sharing them out. */
const MIN_SHARE = 16;

/**
 * Collects jobs and hands them to `commit` in bounded batches, in arrival order. Jobs queued during
 * one turn of the event loop go together; while `maxInFlight` batches are running the queue keeps
 * filling, and the next batch leaves as soon as one of them finishes. `commit` settles every job
 * of its batch; should it throw, the jobs it left unsettled are rejected with that error.
 */
export class GroupCommitQueue<J extends QueuedJob> {
  readonly #commit: (batch: J[]) => Promise<void>;
  readonly #limits: GroupCommitLimits;
  #pending: J[] = [];
  #scheduled = false;
  #inFlight = 0;

  constructor(commit: (batch: J[]) => Promise<void>, limits: GroupCommitLimits) {
    this.#commit = commit;
    this.#limits = limits;
  }

  enqueue(job: J): void {
    this.#pending.push(job);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#limits.maxInFlight || this.#pending.length === 0) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: every append issued in this turn (and in the I/O callbacks of
    // this loop iteration, such as the replies that let actors take their next command) joins.
    setImmediate(() => this.#dispatch());
  }

  #dispatch(): void {
    this.#scheduled = false;
    while (this.#inFlight < this.#limits.maxInFlight && this.#pending.length > 0) {
      // Shared out over the free connections: the server works on one batch while this process
      // settles another, instead of both waiting for each other.
      const free = this.#limits.maxInFlight - this.#inFlight;
      const batch = this.#take(Math.max(MIN_SHARE, Math.ceil(this.#pending.length / free)));
      this.#inFlight++;
      this.#commit(batch)
        .catch((error: unknown) => {
          // Settling a settled promise is a no-op: only jobs the commit left hanging see this.
          for (const job of batch) job.reject(error);
        })
        .finally(() => {
          this.#inFlight--;
          this.#schedule();
        });
    }
  }

  #take(share: number): J[] {
    const { maxBatchChars } = this.#limits;
    const maxBatch = Math.min(this.#limits.maxBatch, share);
    let count = 0;
    let chars = 0;
    for (const job of this.#pending) {
      if (count === maxBatch || (count > 0 && chars + job.chars > maxBatchChars)) break;
      chars += job.chars;
      count++;
    }
    if (count === this.#pending.length) {
      const all = this.#pending;
      this.#pending = [];
      return all;
    }
    return this.#pending.splice(0, count);
  }
}
