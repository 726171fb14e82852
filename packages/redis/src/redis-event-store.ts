import {
  type AppendOptions,
  type AppendResult,
  assertStreamName,
  ChangeSignal,
  type CorrelatedReadOptions,
  decodeRows,
  type EventEnvelope,
  type EventStore,
  FencedWriteError,
  IdempotencyConflictError,
  InvalidConfigurationError,
  type PurgeRequest,
  type ReadOptions,
  type ReadWithErrorsResult,
  type RecordedEvent,
  StreamPurgedError,
  type SubscribeOptions,
  type Subscription,
  sameEventContent,
  startFeedSubscription,
  type Tombstone,
  throwOnReadErrors,
  trackSubscription,
  type Upcasters,
  VersionConflictError,
  validateAppend,
  validateRead,
  validateReadAll,
} from "@granary/core";
import { RedisConnection } from "./internal/connection.js";
import {
  decodeEvent,
  decodeTombstone,
  encodeEventOpen,
  positionOfStoredEvent,
  refOfStoredEvent,
  tombstonePrefix,
} from "./internal/event-codec.js";
import { APPEND, LATEST_VERSION, PURGE, READ, READ_ALL, READ_CORRELATED } from "./internal/event-store-scripts.js";
import { type StoreKeys, storeKeys } from "./internal/keys.js";
import { StoreGenerationGuard } from "./internal/store-generation.js";
import { checkRedisPersistence, type RedisPersistenceStatus, readRedisPersistence } from "./persistence-check.js";
import { type RedisEventStoreOptions, type ResolvedRedisOptions, resolveRedisOptions } from "./redis-options.js";
import { RedisProjectionStore } from "./redis-projection-store.js";

const DEFAULT_READ_ALL_LIMIT = 1_000;

/**
 * An EventStore on Redis. Each stream is a LIST of JSON events (readable with `redis-cli LRANGE`),
 * the namespace's global feed a Redis STREAM of (stream, version) references, and every append one
 * Lua script, so version check, fencing, idempotency and feed position are decided atomically.
 *
 * Durability is Redis's: run it with AOF on (the store warns at start when it is off).
 *
 * @example
 * const store = new RedisEventStore({ redis: "redis://127.0.0.1:6379", namespace: "tenant-a" });
 * await store.append("Account/acc-1", 0, events, { epoch });
 */
export class RedisEventStore implements EventStore {
  readonly #connection: RedisConnection;
  readonly #keys: StoreKeys;
  readonly #upcasters: Upcasters | undefined;
  readonly #changed = new ChangeSignal();
  readonly #subscriptions = new Set<Subscription>();
  readonly #persistence: Promise<RedisPersistenceStatus>;
  readonly #resolved: ResolvedRedisOptions;
  readonly #guard: StoreGenerationGuard;
  /** Settles when writes may start (persistence checked, generation read); reset after a transient failure. */
  #ready: Promise<void> | undefined;
  #unlisten: (() => void) | undefined;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: RedisEventStoreOptions) {
    const resolved = resolveRedisOptions(options);
    this.#resolved = resolved;
    this.#connection = new RedisConnection(resolved);
    this.#keys = storeKeys(resolved.keyPrefix, resolved.namespace);
    this.#upcasters = resolved.upcasters;
    this.#persistence = checkRedisPersistence(this.#connection, resolved.logger);
    this.#guard = new StoreGenerationGuard(
      this.#connection,
      this.#keys.generation,
      this.#keys.position,
      `Redis at ${this.#connection.url} (namespace "${resolved.namespace}")`,
    );
  }

  /**
   * Resolves once the store may write: Redis persists with AOF (or `allowDataLossWithoutAof` is
   * set) and the namespace's generation marker is read. Writes wait for it themselves; a silo calls
   * it at start so a Redis without AOF stops the start, with the option's name.
   * @throws InvalidConfigurationError naming `allowDataLossWithoutAof` on a Redis without AOF
   */
  ready(): Promise<void> {
    if (this.#guard.started) return Promise.resolve();
    this.#ready ??= this.#prepare().catch((error: unknown) => {
      // A connection failure is retried by the next write; a refusal stays.
      if (!(error instanceof InvalidConfigurationError)) this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #prepare(): Promise<void> {
    let { appendonly } = await this.#persistence;
    // The start-up check could not tell (Redis was down): ask again before the first write.
    if (appendonly === undefined) appendonly = (await readRedisPersistence(this.#connection)).appendonly;
    if (appendonly === false && !this.#resolved.allowDataLossWithoutAof) {
      throw new InvalidConfigurationError(
        "allowDataLossWithoutAof",
        `Redis at ${this.#connection.url} has append-only persistence (AOF) off, so a Redis crash or restart loses acknowledged events and their versions are then given to other events; the event store refuses to write there. Turn AOF on (\`appendonly yes\` in redis.conf, or \`redis-cli CONFIG SET appendonly yes\`), or pass \`allowDataLossWithoutAof: true\` for throwaway data`,
      );
    }
    await this.#guard.start();
  }

  /** The projection store in this Redis and namespace, on this store's client (close it before this store). */
  openProjectionStore(): RedisProjectionStore {
    const { keyPrefix, namespace, logger } = this.#resolved;
    return new RedisProjectionStore({ redis: this.#connection.client, keyPrefix, namespace, logger });
  }

  /** The start-up check of Redis persistence (AOF); it has logged a warning if events are at risk. */
  persistence(): Promise<RedisPersistenceStatus> {
    return this.#persistence;
  }

  async append(
    stream: string,
    expectedVersion: number,
    events: readonly EventEnvelope[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    validateAppend(stream, expectedVersion, events, options);
    this.#guard.throwIfRewound();
    if (!this.#guard.started) await this.ready();
    const { epoch } = options;
    const args: (string | number)[] = [
      stream,
      expectedVersion,
      epoch ?? "",
      this.#keys.feedChannel,
      this.#guard.generation,
      this.#guard.seen,
      this.#keys.correlationPrefix,
      events.length,
    ];
    for (const event of events) args.push(event.id, encodeEventOpen(event), event.metadata.correlationId);
    const reply = (await this.#connection.script(
      APPEND,
      [
        this.#keys.stream(stream),
        this.#keys.eventIds,
        this.#keys.streamEpoch(stream),
        this.#keys.tombstone(stream),
        this.#keys.position,
        this.#keys.feed,
        this.#keys.generation,
      ],
      args,
    )) as [string, ...(string | number)[]];

    switch (reply[0]) {
      case "ok":
        this.#changed.fire();
        this.#guard.saw(Number(reply[1]));
        return { version: expectedVersion + events.length, position: Number(reply[1]), duplicate: false };
      case "rewound":
        throw this.#guard.rewound(String(reply[1]), Number(reply[2]));
      case "purged":
        throw purgedError(stream, String(reply[1]));
      case "seen":
        return resend(stream, events, reply.slice(1) as string[]);
      case "fenced":
        throw new FencedWriteError(stream, epoch as number, Number(reply[1]));
      case "conflict":
        throw new VersionConflictError(stream, expectedVersion, Number(reply[1]));
      default:
        throw new Error(`unexpected reply from the append script: ${JSON.stringify(reply[0])}`);
    }
  }

  async read(stream: string, fromVersion = 1, options: ReadOptions = {}): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    return throwOnReadErrors(await this.#read(stream, fromVersion, options.limit));
  }

  async readWithErrors(stream: string, fromVersion = 1): Promise<ReadWithErrorsResult> {
    assertStreamName(stream);
    return this.#read(stream, fromVersion, undefined);
  }

  async #read(stream: string, fromVersion: number, limit: number | undefined): Promise<ReadWithErrorsResult> {
    validateRead(stream, fromVersion, limit);
    const stop = limit === undefined ? -1 : fromVersion - 1 + limit - 1;
    const reply = (await this.#connection.script(
      READ,
      [this.#keys.stream(stream), this.#keys.tombstone(stream)],
      [fromVersion - 1, stop],
    )) as string[];
    if (reply[0] === "purged") throw purgedError(stream, reply[1] as string);
    const rows = reply.slice(1).map((json, i) => ({ json, version: fromVersion + i }));
    const newest = rows.at(-1);
    if (newest) this.#guard.saw(positionOfStoredEvent(newest.json));
    return decodeRows(
      rows,
      (row) => refOfStoredEvent(row.json, stream, row.version),
      (row) => decodeEvent(row.json),
      this.#upcasters,
    );
  }

  async latestVersion(stream: string): Promise<number> {
    assertStreamName(stream);
    const reply = (await this.#connection.script(
      LATEST_VERSION,
      [this.#keys.stream(stream), this.#keys.tombstone(stream)],
      [],
    )) as [string, string | number];
    return reply[0] === "purged" ? decodeTombstone(String(reply[1])).lastVersion : Number(reply[1]);
  }

  async highestEpoch(stream: string): Promise<number> {
    assertStreamName(stream);
    const epoch = await this.#connection.run((c) => c.get(this.#keys.streamEpoch(stream)));
    return epoch === null ? 0 : Number(epoch);
  }

  /**
   * Every event of one correlation id, in commit order. Each append also pushes its events'
   * positions onto a LIST per correlation id (`<prefix>:{ns}:correlation:<id>`): one more RPUSH
   * per event and, since most calls start a correlation of their own, about one small key per
   * command (~100 bytes). The lists keep the positions (not the payloads) of purged events.
   */
  async readCorrelated(correlationId: string, options: CorrelatedReadOptions = {}): Promise<RecordedEvent[]> {
    const reply = (await this.#connection.script(
      READ_CORRELATED,
      [`${this.#keys.correlationPrefix}${correlationId}`, this.#keys.feed],
      [options.afterPosition ?? 0, options.limit ?? DEFAULT_READ_ALL_LIMIT, this.#keys.streamPrefix],
    )) as string[];
    return this.#decodeFeedReply(reply);
  }

  /** Decodes a feed script's reply: flat `[position, stream, version, json]` quadruples. */
  #decodeFeedReply(reply: string[]): RecordedEvent[] {
    const rows: { stream: string; version: number; position: number; json: string }[] = [];
    for (let i = 0; i + 3 < reply.length; i += 4) {
      this.#guard.saw(Number.parseInt(reply[i] as string, 10));
      rows.push({
        position: Number.parseInt(reply[i] as string, 10),
        stream: reply[i + 1] as string,
        version: Number(reply[i + 2]),
        json: reply[i + 3] as string,
      });
    }
    return throwOnReadErrors(
      decodeRows(
        rows,
        (row) => refOfStoredEvent(row.json, row.stream, row.version, row.position),
        (row) => decodeEvent(row.json),
        this.#upcasters,
      ),
    );
  }

  async readAll(fromPosition: number, limit = DEFAULT_READ_ALL_LIMIT): Promise<RecordedEvent[]> {
    validateReadAll(fromPosition, limit);
    const reply = (await this.#connection.script(
      READ_ALL,
      [this.#keys.feed],
      [`${fromPosition + 1}-0`, limit, this.#keys.streamPrefix],
    )) as string[];
    return this.#decodeFeedReply(reply);
  }

  /**
   * Catch-up then live delivery. Woken by a pub/sub message after every append (from any process),
   * and polling once a second in case a message was lost (pub/sub is at-most-once).
   */
  subscribe(options: SubscribeOptions): Subscription {
    this.#unlisten ??= this.#connection.listen(this.#keys.feedChannel, () => this.#changed.fire());
    const subscription = startFeedSubscription(
      {
        readAll: (from, limit) => this.readAll(from, limit),
        changeGeneration: () => this.#changed.generation,
        waitForChange: (signal, maxWaitMs, since) => this.#changed.wait(signal, maxWaitMs, since),
      },
      options,
    );
    return trackSubscription(this.#subscriptions, subscription);
  }

  /**
   * Removes the stream's events, feed entries, event ids and snapshots in one script and leaves the
   * tombstone.
   * Redis keeps the removed payloads in its AOF file until the next rewrite: run `BGREWRITEAOF`
   * after a purge to erase them from disk too.
   */
  async purge(stream: string, request: PurgeRequest): Promise<Tombstone> {
    assertStreamName(stream);
    if (!this.#guard.started) await this.ready();
    // Not atomic with the purge script, but a purge after a detected rewind never starts.
    await this.#guard.check();
    const prefix = tombstonePrefix({
      stream,
      purgedAt: new Date().toISOString(),
      reason: request.reason,
      requestedBy: request.requestedBy,
    });
    const json = (await this.#connection.script(
      PURGE,
      [
        this.#keys.stream(stream),
        this.#keys.eventIds,
        this.#keys.tombstone(stream),
        this.#keys.feed,
        // The snapshots hold the same personal data as the events (same layout as RedisSnapshotStore).
        this.#keys.snapshots(stream),
        this.#keys.snapshot(stream),
      ],
      [prefix],
    )) as string;
    return decodeTombstone(json);
  }

  async tombstone(stream: string): Promise<Tombstone | undefined> {
    assertStreamName(stream);
    const json = await this.#connection.run((c) => c.get(this.#keys.tombstone(stream)));
    return json === null ? undefined : decodeTombstone(json);
  }

  /** Stops subscriptions, lets appends in flight finish, then closes the connections it opened. */
  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    this.#unlisten?.();
    await this.#persistence;
    // Appends waiting for the first generation read go out before the connection closes.
    await this.#ready?.catch(() => {});
    await this.#connection.close();
  }
}

function purgedError(stream: string, tombstoneJson: string): StreamPurgedError {
  const tombstone = decodeTombstone(tombstoneJson);
  return new StreamPurgedError(stream, tombstone.purgedAt, tombstone.reason);
}

/**
 * Some ids of the batch are stored already: it is a duplicate only if every event is stored at its
 * version with the same content (the same rules as the memory store).
 */
function resend(stream: string, events: readonly EventEnvelope[], seen: readonly string[]): AppendResult {
  let stored: RecordedEvent | undefined;
  let same = 0;
  events.forEach((event, i) => {
    const kind = seen[2 * i];
    if (kind === "elsewhere") throw new IdempotencyConflictError(stream, event.id);
    if (kind !== "same") return;
    let existing: RecordedEvent;
    try {
      existing = decodeEvent(seen[2 * i + 1] as string);
    } catch {
      throw new IdempotencyConflictError(stream, event.id);
    }
    if (!sameEventContent(existing, event)) throw new IdempotencyConflictError(stream, event.id);
    stored = existing;
    same++;
  });
  if (same < events.length) {
    const firstNew = events.find((_, i) => seen[2 * i] !== "same") as EventEnvelope;
    throw new IdempotencyConflictError(stream, firstNew.id);
  }
  const last = stored as RecordedEvent;
  return { version: last.version, position: last.position, duplicate: true };
}
