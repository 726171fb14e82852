import { assertStreamName } from "../actor/actor-identity.js";
import { FencedWriteError, IdempotencyConflictError, StreamPurgedError, VersionConflictError } from "../errors.js";
import type { EventEnvelope, RecordedEvent } from "../events/envelope.js";
import type { Upcasters } from "../events/upcasting.js";
import type {
  AppendOptions,
  AppendResult,
  CorrelatedReadOptions,
  EventStore,
  PurgeRequest,
  ReadOptions,
  ReadWithErrorsResult,
  SubscribeOptions,
  Subscription,
  Tombstone,
} from "../ports/event-store.js";
import { sameEventContent, validateAppend } from "../store-kit/append-validation.js";
import { clonePlain } from "../store-kit/clone.js";
import { decodeRows, throwOnReadErrors } from "../store-kit/decode.js";
import { startFeedSubscription } from "../store-kit/feed-subscription.js";
import { validateRead, validateReadAll } from "../store-kit/read-validation.js";
import { type FeedEntry, MemoryEventStorage, type StoredStream } from "./memory-event-storage.js";
import { MemoryProjectionStore } from "./memory-projection-store.js";

export interface MemoryEventStoreOptions {
  /** Tenant namespace: the store sees only its own streams and feed. @default "default" */
  readonly namespace?: string;
  readonly storage?: MemoryEventStorage;
  readonly upcasters?: Upcasters;
}

/**
 * An in-process event store: for tests, examples and `Actor`-only silos. Events are structured-
 * cloned on the way in and out, so callers cannot mutate stored history.
 */
export class MemoryEventStore implements EventStore {
  readonly #storage: MemoryEventStorage;
  readonly #namespace: string;
  readonly #upcasters: Upcasters | undefined;

  readonly #streams: Map<string, StoredStream>;
  readonly #ids: Map<string, string>;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.#storage = options.storage ?? new MemoryEventStorage();
    this.#namespace = options.namespace ?? "default";
    this.#upcasters = options.upcasters;
    this.#streams = namespaced(this.#storage.streams, this.#namespace);
    this.#ids = namespaced(this.#storage.ids, this.#namespace);
  }

  /** The projection store beside this storage and namespace (documents and checkpoints in memory). */
  openProjectionStore(): MemoryProjectionStore {
    return new MemoryProjectionStore(this.#storage, this.#namespace);
  }

  async append(
    stream: string,
    expectedVersion: number,
    events: readonly EventEnvelope[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    validateAppend(stream, expectedVersion, events, options);
    const stored = this.#streamForWrite(stream);
    if (stored.tombstone) {
      throw new StreamPurgedError(stream, stored.tombstone.purgedAt, stored.tombstone.reason);
    }
    const duplicate = this.#detectDuplicate(stream, stored, events);
    if (duplicate) return duplicate;
    if (options.epoch !== undefined && options.epoch < stored.epoch) {
      throw new FencedWriteError(stream, options.epoch, stored.epoch);
    }
    const actual = stored.events.length;
    if (actual !== expectedVersion) throw new VersionConflictError(stream, expectedVersion, actual);
    if (options.epoch !== undefined) stored.epoch = options.epoch;
    for (const event of events) {
      const recorded: RecordedEvent = { ...clonePlain(event), position: ++this.#storage.position };
      stored.events.push(recorded);
      this.#ids.set(event.id, stream);
      const entry = { namespace: this.#namespace, key: stream, event: recorded };
      this.#storage.feed.push(entry);
      const correlation = this.#correlationKey(recorded.metadata.correlationId);
      let entries = this.#storage.correlations.get(correlation);
      if (!entries) {
        entries = [];
        this.#storage.correlations.set(correlation, entries);
      }
      entries.push(entry);
    }
    this.#storage.changed.fire();
    return { version: expectedVersion + events.length, position: this.#storage.position, duplicate: false };
  }

  #detectDuplicate(stream: string, stored: StoredStream, events: readonly EventEnvelope[]): AppendResult | undefined {
    let seen = 0;
    for (const event of events) {
      const existing = stored.events[event.version - 1];
      if (existing?.id === event.id) {
        if (!sameEventContent(existing, event)) throw new IdempotencyConflictError(stream, event.id);
        seen++;
      } else if (this.#ids.has(event.id)) {
        throw new IdempotencyConflictError(stream, event.id);
      }
    }
    if (seen === 0) return undefined;
    if (seen < events.length) {
      // Part of the batch is stored and part is not: not a re-send of one append.
      const firstNew = events.find((e) => stored.events[e.version - 1]?.id !== e.id) as EventEnvelope;
      throw new IdempotencyConflictError(stream, firstNew.id);
    }
    const last = stored.events[(events.at(-1) as EventEnvelope).version - 1] as RecordedEvent;
    return { version: last.version, position: last.position, duplicate: true };
  }

  async read(stream: string, fromVersion = 1, options: ReadOptions = {}): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    return throwOnReadErrors(this.#readChecked(stream, fromVersion, options.limit));
  }

  async readWithErrors(stream: string, fromVersion = 1): Promise<ReadWithErrorsResult> {
    assertStreamName(stream);
    return this.#readChecked(stream, fromVersion, undefined);
  }

  #readChecked(stream: string, fromVersion: number, limit: number | undefined): ReadWithErrorsResult {
    validateRead(stream, fromVersion, limit);
    const stored = this.#stream(stream);
    if (stored?.tombstone) throw new StreamPurgedError(stream, stored.tombstone.purgedAt, stored.tombstone.reason);
    const start = fromVersion - 1;
    const rows = (stored?.events ?? []).slice(start, limit === undefined ? undefined : start + limit);
    return decodeRows(
      rows,
      (e) => ({ stream: e.stream, version: e.version, position: e.position, eventId: e.id }),
      (e) => clonePlain(e),
      this.#upcasters,
    );
  }

  async latestVersion(stream: string): Promise<number> {
    assertStreamName(stream);
    const stored = this.#stream(stream);
    return stored?.tombstone?.lastVersion ?? stored?.events.length ?? 0;
  }

  async highestEpoch(stream: string): Promise<number> {
    assertStreamName(stream);
    return this.#stream(stream)?.epoch ?? 0;
  }

  async readAll(fromPosition: number, limit = 1_000): Promise<RecordedEvent[]> {
    validateReadAll(fromPosition, limit);
    const feed = this.#storage.feed;
    // Binary search: the feed is ordered by position.
    let lo = 0;
    let hi = feed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((feed[mid] as FeedEntry).event.position <= fromPosition) lo = mid + 1;
      else hi = mid;
    }
    const out: RecordedEvent[] = [];
    for (let i = lo; i < feed.length && out.length < limit; i++) {
      const entry = feed[i] as FeedEntry;
      if (entry.namespace !== this.#namespace) continue;
      if (this.#stream(entry.key)?.tombstone) continue;
      const event = clonePlain(entry.event);
      out.push(this.#upcasters ? this.#upcasters.upcast(event) : event);
    }
    return out;
  }

  subscribe(options: SubscribeOptions): Subscription {
    return startFeedSubscription(
      {
        readAll: (from, limit) => this.readAll(from, limit),
        changeGeneration: () => this.#storage.changed.generation,
        waitForChange: (signal, maxWaitMs, since) => this.#storage.changed.wait(signal, maxWaitMs, since),
      },
      options,
    );
  }

  async purge(stream: string, request: PurgeRequest): Promise<Tombstone> {
    assertStreamName(stream);
    const stored = this.#streamForWrite(stream);
    if (stored.tombstone) return stored.tombstone;
    const tombstone: Tombstone = {
      stream,
      purgedAt: new Date().toISOString(),
      reason: request.reason,
      requestedBy: request.requestedBy,
      lastVersion: stored.events.length,
    };
    stored.tombstone = tombstone;
    for (const event of stored.events) {
      this.#ids.delete(event.id);
      const correlation = this.#correlationKey(event.metadata.correlationId);
      const entries = this.#storage.correlations.get(correlation)?.filter((e) => e.key !== stream) ?? [];
      if (entries.length > 0) this.#storage.correlations.set(correlation, entries);
      else this.#storage.correlations.delete(correlation);
    }
    stored.events = [];
    for (let i = this.#storage.feed.length - 1; i >= 0; i--) {
      const entry = this.#storage.feed[i] as FeedEntry;
      if (entry.namespace === this.#namespace && entry.key === stream) this.#storage.feed.splice(i, 1);
    }
    return tombstone;
  }

  async readCorrelated(correlationId: string, options: CorrelatedReadOptions = {}): Promise<RecordedEvent[]> {
    const after = options.afterPosition ?? 0;
    const limit = options.limit ?? 1_000;
    const out: RecordedEvent[] = [];
    for (const entry of this.#storage.correlations.get(this.#correlationKey(correlationId)) ?? []) {
      if (out.length >= limit) break;
      if (entry.event.position <= after) continue;
      const event = clonePlain(entry.event);
      out.push(this.#upcasters ? this.#upcasters.upcast(event) : event);
    }
    return out;
  }

  #correlationKey(correlationId: string): string {
    return `${this.#namespace}\u0000${correlationId}`;
  }

  async tombstone(stream: string): Promise<Tombstone | undefined> {
    assertStreamName(stream);
    return this.#stream(stream)?.tombstone;
  }

  async close(): Promise<void> {}

  #stream(stream: string): StoredStream | undefined {
    return this.#streams.get(stream);
  }

  #streamForWrite(stream: string): StoredStream {
    let stored = this.#streams.get(stream);
    if (!stored) {
      stored = { events: [], epoch: 0 };
      this.#streams.set(stream, stored);
    }
    return stored;
  }
}

function namespaced<V>(byNamespace: Map<string, Map<string, V>>, namespace: string): Map<string, V> {
  let map = byNamespace.get(namespace);
  if (!map) {
    map = new Map();
    byNamespace.set(namespace, map);
  }
  return map;
}
