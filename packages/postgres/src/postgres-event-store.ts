import {
  type AppendOptions,
  type AppendResult,
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
} from "@granary/core";
import { Connection } from "./internal/connection.js";
import { appendError, isCleanAppendError, isDuplicateEventId } from "./internal/error-mapping.js";
import { FeedChanges } from "./internal/feed-changes.js";
import { decodeEventRow, type EventRow, encodeEvents, eventColumns, refOf } from "./internal/row-codec.js";
import { type PostgresEventStoreOptions, resolvePostgresOptions } from "./postgres-options.js";

interface TombstoneRow {
  readonly purged_at: string;
  readonly purge_reason: string;
  readonly purged_by: string;
  readonly last_version: string;
}

const DEFAULT_READ_ALL_LIMIT = 1_000;

/**
 * The production event store: PostgreSQL with jsonb payloads, append-only enforced by triggers,
 * a global feed that never skips a late commit, LISTEN/NOTIFY wake-ups and tenant namespaces.
 * Tables and functions are created in `schema` (default `granary`) at first use.
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
  readonly #changes: FeedChanges;
  readonly #sql: ReturnType<typeof statements>;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: PostgresEventStoreOptions) {
    const resolved = resolvePostgresOptions(options);
    this.#db = new Connection(resolved, "PostgresEventStore");
    this.#namespace = resolved.namespace;
    this.#upcasters = resolved.upcasters;
    this.#changes = new FeedChanges(this.#db.pool, resolved.schema, resolved.namespace, resolved.logger);
    this.#sql = statements(this.#db.s, resolved.schema);
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
    validateAppend(stream, expectedVersion, events);
    const epoch = options.epoch;
    if (epoch !== undefined && (!Number.isSafeInteger(epoch) || epoch < 0)) {
      throw new InvalidArgumentError(`epoch must be an integer >= 0, got ${epoch}`, { stream });
    }
    // Encoded now, so the caller may mutate its events as soon as append returns.
    const payload = encodeEvents(events);
    return this.#db.run(async () => {
      const client = await this.#db.pool.connect();
      let release: Error | undefined;
      try {
        const { rows } = await client.query<{ version: string; position: string; duplicate: boolean }>({
          ...this.#sql.append,
          values: [this.#namespace, stream, expectedVersion, epoch ?? null, payload],
        });
        const row = rows[0];
        if (!row) throw new Error(`append to "${stream}" returned no result`);
        if (!row.duplicate) this.#changes.appended();
        return { version: Number(row.version), position: Number(row.position), duplicate: row.duplicate };
      } catch (error) {
        if (!isCleanAppendError(error)) release = error as Error;
        if (isDuplicateEventId(error)) throw await this.#duplicateIdError(stream, events, error);
        throw appendError(error, { stream, expectedVersion, epoch }) ?? error;
      } finally {
        client.release(release);
      }
    });
  }

  async read(stream: string, fromVersion = 1, options: ReadOptions = {}): Promise<RecordedEvent[]> {
    return throwOnReadErrors(await this.#readStream(stream, fromVersion, options.limit));
  }

  async readWithErrors(stream: string, fromVersion = 1): Promise<ReadWithErrorsResult> {
    return this.#readStream(stream, fromVersion, undefined);
  }

  async latestVersion(stream: string): Promise<number> {
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<{ version: string }>({
        ...this.#sql.latestVersion,
        values: [this.#namespace, stream],
      });
      return Number(rows[0]?.version ?? 0);
    });
  }

  /**
   * Events of every stream of the namespace after `fromPosition`, in position order. Returns only
   * events of transactions older than every transaction still running, so an event that commits
   * later can never land behind a position already returned (see append-function.ts).
   */
  async readAll(fromPosition: number, limit = DEFAULT_READ_ALL_LIMIT): Promise<RecordedEvent[]> {
    if (!Number.isSafeInteger(fromPosition) || fromPosition < 0) {
      throw new InvalidArgumentError(`fromPosition must be an integer >= 0, got ${fromPosition}`);
    }
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new InvalidArgumentError(`limit must be an integer >= 1, got ${limit}`);
    return this.#db.run(async () => {
      const { rows } = await this.#db.pool.query<EventRow>({
        ...this.#sql.readAll,
        values: [this.#namespace, fromPosition, limit],
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
    if (!Number.isSafeInteger(fromVersion))
      throw new InvalidArgumentError(`fromVersion must be an integer, got ${fromVersion}`);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new InvalidArgumentError(`limit must be an integer >= 0, got ${limit}`);
    }
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

  async #duplicateIdError(stream: string, events: readonly EventEnvelope[], cause: unknown): Promise<Error> {
    const { rows } = await this.#db.pool.query<{ id: string }>(this.#sql.storedIds, [
      this.#namespace,
      events.map((e) => e.id),
    ]);
    const stored = new Set(rows.map((r) => r.id));
    const id = events.find((e) => stored.has(e.id))?.id ?? (events[0] as EventEnvelope).id;
    const error = new IdempotencyConflictError(stream, id);
    return Object.assign(error, { cause });
  }
}

/** The hot statements are named, so each connection parses and plans them once. */
function statements(s: string, schema: string) {
  const named = (name: string, text: string) => ({ name: `granary:${schema}:${name}`, text });
  return {
    append: named("append", `SELECT version, "position", duplicate FROM ${s}.append($1, $2, $3, $4, $5::jsonb)`),
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
    latestVersion: named("latest-version", `SELECT version FROM ${s}.streams WHERE namespace = $1 AND stream = $2`),
    tombstone: `SELECT ${s}.iso8601(purged_at) AS purged_at, purge_reason, purged_by, version AS last_version
      FROM ${s}.streams WHERE namespace = $1 AND stream = $2 AND purged_at IS NOT NULL`,
    purge: `SELECT purged_at, purge_reason, purged_by, last_version FROM ${s}.purge($1, $2, $3, $4)`,
    storedIds: `SELECT id FROM ${s}.events WHERE namespace = $1 AND id = ANY($2::text[])`,
  };
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
