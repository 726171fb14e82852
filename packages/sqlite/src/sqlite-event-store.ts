import {
  type AppendOptions,
  type AppendResult,
  assertStreamName,
  type ChangeSignal,
  type CorrelatedReadOptions,
  decodeRows,
  type EventEnvelope,
  type EventStore,
  type PurgeRequest,
  type ReadOptions,
  type ReadWithErrorsResult,
  type RecordedEvent,
  ShuttingDownError,
  type SubscribeOptions,
  type Subscription,
  startFeedSubscription,
  type Tombstone,
  throwOnReadErrors,
  trackSubscription,
  validateAppend,
  validateRead,
  validateReadAll,
} from "@granary/core";
import type { Database } from "better-sqlite3";
import { acquireChangeSignal } from "./change-signals.js";
import { openDatabase } from "./database.js";
import { purgedError, tombstoneOf, writeAppend, writePurge } from "./event-writes.js";
import { GroupCommitQueue, type GroupCommitStats } from "./group-commit-queue.js";
import { decodeRawEventRow, encodeEvent, type RawEventRow, refOfRawRow, streamRowCodec } from "./row-codec.js";
import { type ResolvedSqliteOptions, resolveSqliteOptions, type SqliteEventStoreOptions } from "./sqlite-options.js";
import { SqliteProjectionStore } from "./sqlite-projection-store.js";
import { type EventStatements, prepareEventStatements } from "./statements.js";

const DEFAULT_READ_ALL_LIMIT = 1_000;
/** How often a waiting subscriber checks for commits by other processes. */
const POLL_INTERVAL_MS = 100;

/**
 * The embedded event store: one SQLite file in WAL mode, `synchronous=FULL` by default.
 *
 * Appends go through a {@link GroupCommitQueue}: all appends of one event-loop turn share one
 * transaction (one fsync), each checked in its own savepoint, each acknowledged after COMMIT.
 *
 * Feed positions are `INTEGER PRIMARY KEY AUTOINCREMENT` values assigned inside the write
 * transaction. SQLite admits one writer at a time, so a transaction that commits later always holds
 * higher positions than every committed one: `readAll` never sees a gap that a slower writer fills
 * afterwards, and a subscriber that moved past position p can never miss an event below p.
 * (Purge leaves gaps, which are allowed.)
 */
export class SqliteEventStore implements EventStore {
  readonly #options: ResolvedSqliteOptions;
  readonly #db: Database;
  readonly #statements: EventStatements;
  readonly #queue: GroupCommitQueue;
  readonly #changed: { readonly signal: ChangeSignal; release(): void };
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;

  /** @throws InvalidConfigurationError for invalid options */
  constructor(options: SqliteEventStoreOptions = {}) {
    this.#options = resolveSqliteOptions(options);
    this.#db = openDatabase(this.#options);
    this.#statements = prepareEventStatements(this.#db);
    this.#changed = acquireChangeSignal(this.#options.path);
    this.#queue = new GroupCommitQueue(this.#db, () => this.#changed.signal.fire());
  }

  /**
   * The projection store in this file and namespace, sharing this store's connection (so it also
   * works on `:memory:`). Close it before this store.
   */
  openProjectionStore(): SqliteProjectionStore {
    this.#assertOpen();
    return new SqliteProjectionStore({
      path: this.#options.path,
      namespace: this.#options.namespace,
      database: this.#db,
    });
  }

  /** Transactions committed and writes they carried: appends per transaction = jobs / transactions. */
  get commitStats(): GroupCommitStats {
    return this.#queue.stats;
  }

  append(
    stream: string,
    expectedVersion: number,
    events: readonly EventEnvelope[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    try {
      this.#assertOpen();
      validateAppend(stream, expectedVersion, events, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const namespace = this.#options.namespace;
    const rows = events.map((event) => encodeEvent(namespace, event));
    const append = { namespace, stream, expectedVersion, rows, options: { ...options } };
    return this.#queue.enqueue(() => writeAppend(this.#statements, append));
  }

  async read(stream: string, fromVersion = 1, options: ReadOptions = {}): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    return throwOnReadErrors(this.#readStream(stream, fromVersion, options.limit));
  }

  async readWithErrors(stream: string, fromVersion = 1): Promise<ReadWithErrorsResult> {
    assertStreamName(stream);
    return this.#readStream(stream, fromVersion, undefined);
  }

  async latestVersion(stream: string): Promise<number> {
    assertStreamName(stream);
    this.#assertOpen();
    return this.#statements.streamRow.get(this.#options.namespace, stream)?.version ?? 0;
  }

  async highestEpoch(stream: string): Promise<number> {
    assertStreamName(stream);
    this.#assertOpen();
    return this.#statements.streamRow.get(this.#options.namespace, stream)?.epoch ?? 0;
  }

  async readAll(fromPosition: number, limit = DEFAULT_READ_ALL_LIMIT): Promise<RecordedEvent[]> {
    this.#assertOpen();
    validateReadAll(fromPosition, limit);
    const rows = this.#statements.readAll.all(this.#options.namespace, fromPosition, limit);
    return throwOnReadErrors(this.#decode(rows));
  }

  async readCorrelated(correlationId: string, options: CorrelatedReadOptions = {}): Promise<RecordedEvent[]> {
    this.#assertOpen();
    const rows = this.#statements.readCorrelated.all(
      this.#options.namespace,
      correlationId,
      options.afterPosition ?? 0,
      options.limit ?? DEFAULT_READ_ALL_LIMIT,
    );
    return throwOnReadErrors(this.#decode(rows));
  }

  subscribe(options: SubscribeOptions): Subscription {
    this.#assertOpen();
    const subscription = startFeedSubscription(
      {
        readAll: (from, limit) => this.readAll(from, limit),
        changeGeneration: () => this.#changed.signal.generation,
        waitForChange: (signal, maxWaitMs, since) => this.#waitForChange(signal, maxWaitMs, since),
      },
      options,
    );
    return trackSubscription(this.#subscriptions, subscription);
  }

  purge(stream: string, request: PurgeRequest): Promise<Tombstone> {
    try {
      assertStreamName(stream);
      this.#assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    const namespace = this.#options.namespace;
    return this.#queue
      .enqueue(() => writePurge(this.#statements, namespace, stream, request))
      .then((tombstone) => {
        // The deleted rows are zeroed (secure_delete); this also empties the WAL, which still holds
        // earlier copies of the pages. Busy readers can leave frames for a later checkpoint.
        if (!this.#closed) this.#db.pragma("wal_checkpoint(TRUNCATE)");
        return tombstone;
      });
  }

  async tombstone(stream: string): Promise<Tombstone | undefined> {
    assertStreamName(stream);
    this.#assertOpen();
    const head = this.#statements.streamRow.get(this.#options.namespace, stream);
    return head?.purged_at ? tombstoneOf(stream, head) : undefined;
  }

  /** Commits queued appends, stops subscriptions and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.close();
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    this.#changed.release();
    this.#db.close();
  }

  #readStream(stream: string, fromVersion: number, limit: number | undefined): ReadWithErrorsResult {
    this.#assertOpen();
    validateRead(stream, fromVersion, limit);
    const namespace = this.#options.namespace;
    // LIMIT -1 is SQLite for "no limit".
    const rows = this.#statements.readStream.all(namespace, stream, fromVersion, limit ?? -1);
    // A purge deletes the events in the transaction that writes the tombstone, so only an empty
    // read can be of a purged stream: the head is read then, not on every read.
    if (rows.length === 0) {
      const head = this.#statements.streamRow.get(namespace, stream);
      if (head?.purged_at) throw purgedError(stream, head);
    }
    const codec = streamRowCodec(stream);
    return decodeRows(rows, codec.refOf, codec.decode, this.#options.upcasters);
  }

  #decode(rows: readonly RawEventRow[]): ReadWithErrorsResult {
    return decodeRows(rows, refOfRawRow, decodeRawEventRow, this.#options.upcasters);
  }

  /** Wakes on an in-process commit at once, and on another process's commit at the next poll. */
  async #waitForChange(signal: AbortSignal, maxWaitMs: number, since: number | undefined): Promise<void> {
    const changed = this.#changed.signal;
    const generation = since ?? changed.generation;
    const dataVersion = this.#dataVersion();
    const deadline = Date.now() + maxWaitMs;
    for (let left = maxWaitMs; left > 0 && !signal.aborted; left = deadline - Date.now()) {
      await changed.wait(signal, Math.min(POLL_INTERVAL_MS, left), generation);
      if (changed.generation !== generation || this.#closed || this.#dataVersion() !== dataVersion) return;
    }
  }

  /** Changes whenever another connection commits to the file (PRAGMA data_version). */
  #dataVersion(): number {
    return this.#closed ? -1 : (this.#statements.dataVersion.get() as number);
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShuttingDownError("the SQLite event store");
  }
}
