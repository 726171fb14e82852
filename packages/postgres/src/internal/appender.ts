import { type AppendResult, IdempotencyConflictError } from "@granary/core";
import {
  type AppendManyRow,
  type AppendRequest,
  appendManyArguments,
  byStream,
  isStatementError,
  type QueuedAppend,
} from "./append-batch.js";
import type { Connection } from "./connection.js";
import { appendError, isCleanAppendError, isDuplicateEventId } from "./error-mapping.js";
import type { EventStatements } from "./event-statements.js";
import type { FeedChanges } from "./feed-changes.js";
import { GroupCommitQueue, type GroupCommitStats } from "./group-commit.js";

/** A group-commit batch also stops at about this many characters of JSON. */
const MAX_BATCH_CHARS = 4_000_000;
/**
 * Group-commit batches in flight at once, each on its own pool connection and in its own
 * transaction (each takes the feed critical section for itself, so the feed guarantee holds).
 */
const BATCHES_IN_FLIGHT = 2;
/**
 * JSON text that jsonb rejects (\u0000, an unpaired surrogate). JSON.stringify writes these
 * characters only as such escapes; a false match (an escaped backslash before "u0000") merely
 * sends that append alone.
 */
const NOT_JSONB = /\\u(?:0000|d[89a-f])/i;

export interface AppenderOptions {
  readonly namespace: string;
  /** Batch appends into `append_many` calls; otherwise every append is one `append` call. */
  readonly groupCommit: boolean;
  readonly maxBatch: number;
}

/**
 * The event store's write path: every append alone through `append` (append-function.ts), or
 * queued and sent in batches through `append_many` (append-many-function.ts), each answered as if
 * it had run alone and settled only after its commit.
 */
export class Appender {
  readonly #db: Connection;
  readonly #sql: EventStatements;
  readonly #changes: FeedChanges;
  readonly #namespace: string;
  readonly #queue: GroupCommitQueue<QueuedAppend> | undefined;
  #transactions = 0;
  #jobs = 0;

  constructor(db: Connection, sql: EventStatements, changes: FeedChanges, options: AppenderOptions) {
    this.#db = db;
    this.#sql = sql;
    this.#changes = changes;
    this.#namespace = options.namespace;
    this.#queue = options.groupCommit
      ? new GroupCommitQueue((batch) => this.#commitBatch(batch), {
          maxBatch: options.maxBatch,
          maxBatchChars: MAX_BATCH_CHARS,
          maxInFlight: BATCHES_IN_FLIGHT,
        })
      : undefined;
  }

  /** Counters of committed append transactions. */
  get commitStats(): GroupCommitStats {
    return { transactions: this.#transactions, jobs: this.#jobs };
  }

  append(request: AppendRequest): Promise<AppendResult> {
    const queue = this.#queue;
    // Text jsonb cannot hold fails the whole statement it is in: such an append goes alone.
    if (!queue || NOT_JSONB.test(request.payload)) return this.#db.run(() => this.#appendAlone(request));
    const chars = request.payload.length + request.stream.length + 48;
    return this.#db.run(
      () => new Promise<AppendResult>((resolve, reject) => queue.enqueue({ ...request, chars, resolve, reject })),
    );
  }

  /** One append in its own transaction, through `append`. */
  async #appendAlone(request: AppendRequest): Promise<AppendResult> {
    const { stream, expectedVersion, epoch } = request;
    const client = await this.#db.pool.connect();
    let release: Error | undefined;
    try {
      const { rows } = await client.query<{ version: string; position: string; duplicate: boolean }>({
        ...this.#sql.append,
        values: [this.#namespace, stream, expectedVersion, epoch ?? null, request.payload],
      });
      const row = rows[0];
      if (!row) throw new Error(`append to "${stream}" returned no result`);
      this.#transactions++;
      this.#jobs++;
      if (!row.duplicate) this.#changes.appended();
      return { version: Number(row.version), position: Number(row.position), duplicate: row.duplicate };
    } catch (error) {
      if (!isCleanAppendError(error)) release = error as Error;
      if (isDuplicateEventId(error)) throw await this.#duplicateIdError(stream, request.ids, error);
      throw appendError(error, { stream, expectedVersion, epoch }) ?? error;
    } finally {
      client.release(release);
    }
  }

  /**
   * One group-commit batch: one `append_many` statement, so one transaction. Settles every job
   * after the commit, each with the answer `append` would have given it alone; never rejects.
   */
  async #commitBatch(jobs: QueuedAppend[]): Promise<void> {
    // Alone in its batch: `append` gives the same answers with less work on the server.
    if (jobs.length === 1) return this.#appendEachAlone(jobs);
    // Sorted by stream (stably, so appends to one stream keep their call order): concurrent
    // batches then tend to lock stream rows in the same order (see append-many-function.ts).
    const batch = jobs.sort(byStream);
    let rows: AppendManyRow[];
    try {
      rows = await this.#appendMany(batch);
      if (rows.length !== batch.length) {
        throw new Error(`append_many returned ${rows.length} results for ${batch.length} appends`);
      }
    } catch (error) {
      if (!isStatementError(error)) {
        // The server or the connection failed: as with a single append, the caller cannot know
        // whether it committed, and a retry is answered idempotently.
        for (const job of batch) job.reject(error);
        return;
      }
      // Something only the INSERT could find (an id a concurrent transaction is inserting, a
      // timestamp PostgreSQL cannot read) rolled the whole batch back: nothing of it is stored.
      // Each append then runs alone, in order per stream, to get its own answer.
      await this.#appendEachAlone(batch);
      return;
    }
    this.#transactions++;
    this.#jobs += batch.length;
    if (rows.some((row) => row.rejected === null && !row.duplicate)) this.#changes.appended();
    for (const [i, job] of batch.entries()) {
      const row = rows[i] as AppendManyRow;
      if (row.rejected === null) {
        job.resolve({ version: Number(row.version), position: Number(row.position), duplicate: row.duplicate });
      } else {
        const context = { stream: job.stream, expectedVersion: job.expectedVersion, epoch: job.epoch };
        const rejection = { code: row.rejected, detail: row.detail ?? undefined };
        job.reject(appendError(rejection, context) ?? new Error(`append to "${job.stream}" failed: ${row.rejected}`));
      }
    }
  }

  async #appendMany(batch: readonly QueuedAppend[]): Promise<AppendManyRow[]> {
    const values = [this.#namespace, ...appendManyArguments(batch)];
    const client = await this.#db.pool.connect();
    let release: Error | undefined;
    try {
      const { rows } = await client.query<AppendManyRow>({ ...this.#sql.appendMany, values });
      return rows;
    } catch (error) {
      // Any error but a known clean one may have interrupted the feed critical section: the
      // connection is discarded, which releases the advisory lock.
      if (!isCleanAppendError(error)) release = error as Error;
      throw error;
    } finally {
      client.release(release);
    }
  }

  async #appendEachAlone(batch: readonly QueuedAppend[]): Promise<void> {
    const byStreamInOrder = new Map<string, QueuedAppend[]>();
    for (const job of batch) {
      const chain = byStreamInOrder.get(job.stream);
      if (chain) chain.push(job);
      else byStreamInOrder.set(job.stream, [job]);
    }
    await Promise.all(
      [...byStreamInOrder.values()].map(async (chain) => {
        for (const job of chain) {
          try {
            job.resolve(await this.#appendAlone(job));
          } catch (error) {
            job.reject(error);
          }
        }
      }),
    );
  }

  async #duplicateIdError(stream: string, ids: readonly string[], cause: unknown): Promise<Error> {
    const { rows } = await this.#db.pool.query<{ id: string }>(this.#sql.storedIds, [this.#namespace, ids]);
    const stored = new Set(rows.map((r) => r.id));
    const id = ids.find((e) => stored.has(e)) ?? (ids[0] as string);
    const error = new IdempotencyConflictError(stream, id);
    return Object.assign(error, { cause });
  }
}
