import {
  type AppendOptions,
  type AppendResult,
  assertStreamName,
  type CorrelatedReadOptions,
  decodeRows,
  type EventEnvelope,
  type EventStore,
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
import { Appender } from "./internal/appender.js";
import { Connection } from "./internal/connection.js";
import { type EventStatements, eventStatements, type TombstoneRow, toTombstone } from "./internal/event-statements.js";
import { FeedChanges } from "./internal/feed-changes.js";
import type { GroupCommitStats } from "./internal/group-commit.js";
import {
  decodeEventRow,
  decodeStreamEventRow,
  type EventRow,
  encodeEvents,
  refOf,
  type StreamEventRow,
  streamRefOf,
  type TombstoneMarkerRow,
} from "./internal/row-codec.js";
import {
  type PostgresEventStoreOptions,
  type ResolvedPostgresOptions,
  resolvePostgresOptions,
} from "./postgres-options.js";
import { PostgresProjectionStore } from "./postgres-projection-store.js";

const DEFAULT_READ_ALL_LIMIT = 1_000;

/**
 * The production event store: PostgreSQL with jsonb payloads, append-only enforced by triggers,
 * a global feed that never skips a late commit, LISTEN/NOTIFY wake-ups and tenant namespaces.
 * Tables and functions are created in `schema` (default `granary`) at first use. Every write is a
 * call of one of Granary's functions, which run as their owner, so the store also works connected
 * as a role that may only read and execute them (see grantApplicationRole).
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
  readonly #sql: EventStatements;
  readonly #appender: Appender;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: PostgresEventStoreOptions) {
    const resolved = resolvePostgresOptions(options);
    this.#db = new Connection(resolved, "PostgresEventStore");
    this.#namespace = resolved.namespace;
    this.#resolved = resolved;
    this.#upcasters = resolved.upcasters;
    this.#changes = new FeedChanges(this.#db.pool, resolved.schema, resolved.namespace, resolved.logger);
    this.#sql = eventStatements(this.#db.s, resolved.schema);
    this.#appender = new Appender(this.#db, this.#sql, this.#changes, resolved);
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
    return this.#appender.append({ stream, expectedVersion, epoch, ids: events.map((e) => e.id), payload });
  }

  /**
   * Counters of committed append transactions: with group commit, `jobs / transactions` is the
   * mean number of appends that shared one commit.
   */
  get commitStats(): GroupCommitStats {
    return this.#appender.commitStats;
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
      const { rows } = await this.#db.pool.query<StreamEventRow | TombstoneMarkerRow>({
        ...this.#sql.readStream,
        values: [this.#namespace, stream, fromVersion, limit ?? null],
      });
      const last = rows[rows.length - 1];
      if (last !== undefined && last[0] === null) throw new StreamPurgedError(stream, last[7], last[3]);
      return decodeRows(
        rows as readonly StreamEventRow[],
        (row) => streamRefOf(row, stream),
        (row) => decodeStreamEventRow(row, stream),
        this.#upcasters,
      );
    });
  }
}
