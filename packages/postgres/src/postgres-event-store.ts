import {
  type AppendOptions,
  type AppendResult,
  assertStreamName,
  type CorrelatedReadOptions,
  decodeRows,
  type EventEnvelope,
  type EventStore,
  IdempotencyConflictError,
  InvalidArgumentError,
  type PurgeRequest,
  type ReadOptions,
  type ReadWithErrorsResult,
  type RecordedEvent,
  StreamPurgedError,
  type SubscribeOptions,
  type Subscription,
  startFeedSubscription,
  type Tombstone,
  throwOnReadErrors,
  type Upcasters,
  validateAppend,
  validateRead,
  validateReadAll,
} from "@granary/core";
import { Connection } from "./internal/connection.js";
import { appendError, isCleanAppendError, isDuplicateEventId } from "./internal/error-mapping.js";
import { FeedChanges } from "./internal/feed-changes.js";
import { GroupCommitQueue, type GroupCommitStats } from "./internal/group-commit.js";
import { decodeEventRow, type EventRow, encodeEvents, eventColumns, refOf } from "./internal/row-codec.js";
import {
  type PostgresEventStoreOptions,
  type ResolvedPostgresOptions,
  resolvePostgresOptions,
} from "./postgres-options.js";
import { PostgresProjectionStore } from "./postgres-projection-store.js";

interface TombstoneRow {
  readonly purged_at: string;
  readonly purge_reason: string;
  readonly purged_by: string;
  readonly last_version: string;
}

const DEFAULT_READ_ALL_LIMIT = 1_000;
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

interface AppendRequest {
  readonly stream: string;
  readonly expectedVersion: number;
  readonly epoch: number | undefined;
  readonly ids: readonly string[];
  /** The events as the jsonb array `append` takes. */
  readonly payload: string;
}

interface QueuedAppend extends AppendRequest {
  readonly chars: number;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

interface AppendManyRow {
  readonly version: string | null;
  readonly position: string | null;
  readonly duplicate: boolean;
  /** The SQLSTATE `append` would have raised, or null when the append was accepted or a re-send. */
  readonly rejected: string | null;
  readonly detail: string | null;
}

const byStream = (a: QueuedAppend, b: QueuedAppend): number => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0);

/**
 * Errors of the batch statement itself that roll back the batch and leave the server and
 * connection usable: data exceptions (22), integrity violations (23), deadlock or serialization
 * failures (40). Anything else (connection lost, server shutting down) fails the whole batch.
 */
function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^(22|23|40)/.test(code);
}

/**
 * The production event store: PostgreSQL with jsonb payloads, append-only enforced by triggers,
 * a global feed that never skips a late commit, LISTEN/NOTIFY wake-ups and tenant namespaces.
 * Tables and functions are created in `schema` (default `granary`) at first use.
 *
 * Group commit (`groupCommit`, on by default): appends issued while others are on their way are
 * queued and sent together, up to `maxBatch`, as one `append_many` statement — one transaction and
 * one commit flush for all of them, each append still checked and answered on its own (see
 * append-many-function.ts) and settled only after the commit. Two batches can be in flight at once,
 * each on its own connection, so the next one gathers while the server works. {@link commitStats}
 * counts the transactions.
 *
 * @example
 * const events = new PostgresEventStore({ connectionString: "postgres://app@db:5432/app", namespace: "tenant-a" });
 * await events.append("Account/1", 0, [event]);
 * for (const e of await events.readAll(0, 100)) project(e);
 * await events.close();
 */
export class PostgresEventStore implements EventStore {
  readonly #db: Connection;
  readonly #namespace: string;
  readonly #upcasters: Upcasters | undefined;
  readonly #resolved: ResolvedPostgresOptions;
  readonly #changes: FeedChanges;
  readonly #sql: ReturnType<typeof statements>;
  readonly #queue: GroupCommitQueue<QueuedAppend> | undefined;
  #transactions = 0;
  #jobs = 0;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: PostgresEventStoreOptions) {
    const resolved = resolvePostgresOptions(options);
    this.#db = new Connection(resolved, "PostgresEventStore");
    this.#namespace = resolved.namespace;
    this.#resolved = resolved;
    this.#upcasters = resolved.upcasters;
    this.#changes = new FeedChanges(this.#db.pool, resolved.schema, resolved.namespace, resolved.logger);
    this.#sql = statements(this.#db.s, resolved.schema);
    this.#queue = resolved.groupCommit
      ? new GroupCommitQueue((batch) => this.#commitBatch(batch), {
          maxBatch: resolved.maxBatch,
          maxBatchChars: MAX_BATCH_CHARS,
          maxInFlight: BATCHES_IN_FLIGHT,
        })
      : undefined;
  }

  /**
   * The projection store in this database, schema and namespace, on this store's pool (close it
   * before this store).
   */
  openProjectionStore(): PostgresProjectionStore {
    const { schema, namespace, logger } = this.#resolved;
    return new PostgresProjectionStore({ pool: this.#db.pool, schema, namespace, logger });
  }

  /** The namespace this store reads and writes. */
  get namespace(): string {
    return this.#namespace;
  }

  async append(
    stream: string,
    expectedVersion: number,
    events: readonly EventEnvelope[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    validateAppend(stream, expectedVersion, events, options);
    const epoch = options.epoch;
    // Encoded now, so the caller may mutate its events as soon as append returns.
    const payload = encodeEvents(events);
    const request: AppendRequest = { stream, expectedVersion, epoch, ids: events.map((e) => e.id), payload };
    const queue = this.#queue;
    // Text jsonb cannot hold fails the whole statement it is in: such an append goes alone.
    if (!queue || NOT_JSONB.test(payload)) return this.#db.run(() => this.#appendAlone(request));
    return this.#db.run(
      () =>
        new Promise<AppendResult>((resolve, reject) =>
          queue.enqueue({ ...request, chars: payload.length + stream.length + 48, resolve, reject }),
        ),
    );
  }

  /**
   * Counters of committed append transactions: with group commit, `jobs / transactions` is the
   * mean number of appends that shared one commit.
   */
  get commitStats(): GroupCommitStats {
    return { transactions: this.#transactions, jobs: this.#jobs };
  }

  async read(stream: string, fromVersion = 1, options: ReadOptions = {}): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    return throwOnReadErrors(await this.#readStream(stream, fromVersion, options.limit));
  }

  async readWithErrors(stream: string, fromVersion = 1): Promise<ReadWithErrorsResult> {
    assertStreamName(stream);
    return this.#readStream(stream, fromVersion, undefined);
  }

  async latestVersion(stream: string): Promise<number> {
    assertStreamName(stream);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<{ version: string }>({
        ...this.#sql.latestVersion,
        values: [this.#namespace, stream],
      });
      return Number(rows[0]?.version ?? 0);
    });
  }

  async highestEpoch(stream: string): Promise<number> {
    assertStreamName(stream);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<{ epoch: string }>({
        ...this.#sql.highestEpoch,
        values: [this.#namespace, stream],
      });
      return Number(rows[0]?.epoch ?? 0);
    });
  }

  /**
   * Events of every stream of the namespace after `fromPosition`, in position order. Returns only
   * events of transactions older than every transaction still running, so an event that commits
   * later can never land behind a position already returned (see append-function.ts).
   */
  async readAll(fromPosition: number, limit = DEFAULT_READ_ALL_LIMIT): Promise<RecordedEvent[]> {
    validateReadAll(fromPosition, limit);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<EventRow>({
        ...this.#sql.readAll,
        values: [this.#namespace, fromPosition, limit],
      });
      return throwOnReadErrors(decodeRows(rows, refOf, decodeEventRow, this.#upcasters));
    });
  }

  /** Uses the correlation index (migration 3); like readAll, only events of finished transactions. */
  async readCorrelated(correlationId: string, options: CorrelatedReadOptions = {}): Promise<RecordedEvent[]> {
    const after = options.afterPosition ?? 0;
    const limit = options.limit ?? DEFAULT_READ_ALL_LIMIT;
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<EventRow>({
        ...this.#sql.readCorrelated,
        values: [this.#namespace, correlationId, after, limit],
      });
      return throwOnReadErrors(decodeRows(rows, refOf, decodeEventRow, this.#upcasters));
    });
  }

  subscribe(options: SubscribeOptions): Subscription {
    return startFeedSubscription(
      {
        readAll: (from, limit) => this.readAll(from, limit),
        waitForChange: (signal, maxWaitMs) => this.#changes.wait(signal, maxWaitMs),
      },
      options,
    );
  }

  async purge(stream: string, request: PurgeRequest): Promise<Tombstone> {
    assertStreamName(stream);
    if (typeof stream !== "string" || stream.length === 0)
      throw new InvalidArgumentError("stream must be a non-empty string");
    for (const field of ["reason", "requestedBy"] as const) {
      if (typeof request?.[field] !== "string" || request[field].length === 0) {
        throw new InvalidArgumentError(`purge of "${stream}" needs a non-empty ${field}: it is kept in the tombstone`, {
          stream,
        });
      }
    }
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<TombstoneRow>(this.#sql.purge, [
        this.#namespace,
        stream,
        request.reason,
        request.requestedBy,
      ]);
      return toTombstone(stream, rows[0] as TombstoneRow);
    });
  }

  async tombstone(stream: string): Promise<Tombstone | undefined> {
    assertStreamName(stream);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<TombstoneRow>(this.#sql.tombstone, [this.#namespace, stream]);
      return rows[0] && toTombstone(stream, rows[0]);
    });
  }

  /** Lets appends and reads in flight finish, stops listening, and ends the pool if the store opened it. */
  async close(): Promise<void> {
    return this.#db.close(() => this.#changes.close());
  }

  async #readStream(stream: string, fromVersion: number, limit: number | undefined): Promise<ReadWithErrorsResult> {
    validateRead(stream, fromVersion, limit);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<EventRow>({
        ...this.#sql.readStream,
        values: [this.#namespace, stream, fromVersion, limit ?? null],
      });
      // A purged stream has no events left, so only an empty result needs the tombstone check.
      if (rows.length === 0) {
        const { rows: tombstones } = await this.#db.pool.query<TombstoneRow>(this.#sql.tombstone, [
          this.#namespace,
          stream,
        ]);
        const tombstone = tombstones[0];
        if (tombstone) throw new StreamPurgedError(stream, tombstone.purged_at, tombstone.purge_reason);
      }
      return decodeRows(rows, refOf, decodeEventRow, this.#upcasters);
    });
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

/** The hot statements are named, so each connection parses and plans them once. */
function statements(s: string, schema: string) {
  const named = (name: string, text: string) => ({ name: `granary:${schema}:${name}`, text });
  return {
    append: named("append", `SELECT version, "position", duplicate FROM ${s}.append($1, $2, $3, $4, $5::jsonb)`),
    appendMany: named(
      "append-many",
      `SELECT version, "position", duplicate, rejected, detail
       FROM ${s}.append_many($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
    ),
    readStream: named(
      "read",
      `SELECT ${eventColumns(s)} FROM ${s}.events e
       WHERE e.namespace = $1 AND e.stream = $2 AND e.version >= $3 ORDER BY e.version LIMIT $4`,
    ),
    readAll: named(
      "read-all",
      `SELECT ${eventColumns(s)} FROM ${s}.events e
       WHERE e.namespace = $1 AND e.position > $2
         AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY e.position LIMIT $3`,
    ),
    readCorrelated: named(
      "read-correlated",
      `SELECT ${eventColumns(s)} FROM ${s}.events e
       WHERE e.namespace = $1 AND (e.metadata->>'correlationId') = $2 AND e.position > $3
         AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY e.position LIMIT $4`,
    ),
    latestVersion: named("latest-version", `SELECT version FROM ${s}.streams WHERE namespace = $1 AND stream = $2`),
    highestEpoch: named("highest-epoch", `SELECT epoch FROM ${s}.streams WHERE namespace = $1 AND stream = $2`),
    tombstone: `SELECT ${s}.iso8601(purged_at) AS purged_at, purge_reason, purged_by, version AS last_version
      FROM ${s}.streams WHERE namespace = $1 AND stream = $2 AND purged_at IS NOT NULL`,
    purge: `SELECT purged_at, purge_reason, purged_by, last_version FROM ${s}.purge($1, $2, $3, $4)`,
    storedIds: `SELECT id FROM ${s}.events WHERE namespace = $1 AND id = ANY($2::text[])`,
  };
}

/**
 * The column-wise arguments of append_many (after the namespace) for a batch sorted by stream: per
 * append stream, expected version, epoch, event count and whether it must run on its own in batch
 * order (its stream, or one of its event ids, occurs in another append of the batch); per event
 * the events as one jsonb array, and each one's append, version and id.
 */
function appendManyArguments(batch: readonly QueuedAppend[]): unknown[] {
  const streams: string[] = [];
  const expected: number[] = [];
  const epochs: (number | null)[] = [];
  const counts: number[] = [];
  const sequential: boolean[] = [];
  const owners: number[] = [];
  const versions: number[] = [];
  const ids: string[] = [];
  const idOwner = new Map<string, number>();
  let events = "[";
  for (const [i, job] of batch.entries()) {
    streams.push(job.stream);
    expected.push(job.expectedVersion);
    epochs.push(job.epoch ?? null);
    counts.push(job.ids.length);
    // Sorted by stream: repeats are neighbours.
    const repeated = i > 0 && batch[i - 1]?.stream === job.stream;
    sequential.push(repeated);
    if (repeated) sequential[i - 1] = true;
    for (const [k, id] of job.ids.entries()) {
      owners.push(i + 1);
      versions.push(job.expectedVersion + k + 1);
      ids.push(id);
      const other = idOwner.get(id);
      if (other === undefined) idOwner.set(id, i);
      else if (other !== i) {
        sequential[other] = true;
        sequential[i] = true;
      }
    }
    if (i > 0) events += ",";
    events += job.payload.slice(1, -1);
  }
  events += "]";
  return [streams, expected, epochs, counts, sequential, events, owners, versions, ids];
}

function toTombstone(stream: string, row: TombstoneRow): Tombstone {
  return {
    stream,
    purgedAt: row.purged_at,
    reason: row.purge_reason,
    requestedBy: row.purged_by,
    lastVersion: Number(row.last_version),
  };
}
