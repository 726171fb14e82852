import type { EventEnvelope, RecordedEvent } from "../events/envelope.js";

export interface AppendOptions {
  /**
   * Fencing token: the epoch of the writer's activation, issued by the directory and growing with
   * every new activation of the actor. A store rejects (FencedWriteError) an append whose epoch is
   * lower than the highest it has accepted for the stream, so a zombie activation cannot write
   * after its actor moved. Omitted: no fencing check (single-silo use).
   */
  readonly epoch?: number;
}

export interface AppendResult {
  /** The stream's version after the append (the last appended event's version). */
  readonly version: number;
  /** Global feed position of the last appended event. */
  readonly position: number;
  /** True when every event was already stored (an idempotent re-send); nothing was written. */
  readonly duplicate: boolean;
}

export interface CorrelatedReadOptions {
  /** Only events with a feed position greater than this (paging). @default 0 */
  readonly afterPosition?: number;
  /** At most this many events. @default 1,000 */
  readonly limit?: number;
}

export interface ReadOptions {
  /** Read at most this many events. */
  readonly limit?: number;
}

/** A stored event that could not be decoded or upcast, reported instead of silently skipped. */
export interface EventReadError {
  readonly stream: string;
  readonly version: number;
  readonly position: number;
  readonly eventId: string;
  readonly message: string;
  readonly cause?: unknown;
}

export interface ReadWithErrorsResult {
  readonly events: readonly RecordedEvent[];
  readonly errors: readonly EventReadError[];
}

export interface SubscribeOptions {
  /** Deliver events with a position strictly greater than this. 0 = from the beginning. */
  readonly fromPosition: number;
  /** Called once per event, in feed order; the next event waits for the returned promise. */
  readonly onEvent: (event: RecordedEvent) => void | Promise<void>;
  /** Called when the subscription stops because onEvent threw or the store failed. */
  readonly onError?: (error: unknown) => void;
  /**
   * Called when a read reached the head of the feed (it returned fewer than `batchSize` events)
   * after events were delivered since the last call, before the subscription waits for more; the
   * subscription waits for the returned promise. Lets a subscriber that buffers (a projection
   * commits per batch) commit what it has at once instead of on a later tick.
   */
  readonly onCaughtUp?: () => void | Promise<void>;
  /** Events fetched per catch-up read. @default 500 */
  readonly batchSize?: number;
}

export interface Subscription {
  /** Position of the last event delivered. */
  readonly position: number;
  close(): Promise<void>;
}

/** The who/when/why of a purge, kept forever in the tombstone. */
export interface PurgeRequest {
  readonly reason: string;
  readonly requestedBy: string;
}

export interface Tombstone {
  readonly stream: string;
  readonly purgedAt: string;
  readonly reason: string;
  readonly requestedBy: string;
  /** Version the stream had when purged; the stream accepts no further appends. */
  readonly lastVersion: number;
}

/**
 * Append-only event storage. Invariants every implementation keeps (and the conformance suite in
 * `@granary/testing` checks):
 * - Versions in a stream are 1, 2, 3, ... without gaps or duplicates; `append` is all-or-nothing.
 * - `append(stream, expectedVersion, events)` succeeds only if the stream is at `expectedVersion`
 *   (0 = empty), else VersionConflictError{stream, expectedVersion, actualVersion}; no retry.
 * - Events carry their version already; they must be `expectedVersion + 1 ...` in order.
 * - Re-sending events whose ids are stored with the same content is a no-op (`duplicate: true`);
 *   the same id with different content is IdempotencyConflictError.
 * - An append with an older fencing epoch than one already accepted is FencedWriteError.
 * - The store never updates or deletes events, except through `purge`, which leaves a tombstone.
 * - A store opened on a namespace sees only that namespace's streams and feed.
 */
export interface EventStore {
  append(
    stream: string,
    expectedVersion: number,
    events: readonly EventEnvelope[],
    options?: AppendOptions,
  ): Promise<AppendResult>;

  /**
   * Events with version >= fromVersion (default 1), in version order, upcast. Throws
   * CorruptHistoryError on an undecodable event and StreamPurgedError on a purged stream.
   */
  read(stream: string, fromVersion?: number, options?: ReadOptions): Promise<RecordedEvent[]>;

  /** Like read, but reports undecodable or un-upcastable events in `errors` instead of throwing. */
  readWithErrors(stream: string, fromVersion?: number): Promise<ReadWithErrorsResult>;

  /** The stream's current version; 0 when it has no events. */
  latestVersion(stream: string): Promise<number>;

  /**
   * The highest fencing epoch the store has accepted for the stream; 0 when no append carried one.
   * Whoever issues epochs starts above it, so epochs grow from what the store has seen and a clock
   * that went back cannot fence every stream (the standalone directory does this).
   */
  highestEpoch(stream: string): Promise<number>;

  /** Events of every stream with position > fromPosition, in position order, at most `limit`. */
  readAll(fromPosition: number, limit?: number): Promise<RecordedEvent[]>;

  /**
   * Every event whose `metadata.correlationId` is `correlationId`, across all streams of the
   * namespace, in commit (feed position) order: "what did this request change?". Purged streams'
   * events are gone from it. Every Granary store implements it (SQLite and PostgreSQL with an
   * index, Redis with a list per correlation id); optional for other stores, which then cannot
   * answer `silo.correlated`.
   */
  readCorrelated?(correlationId: string, options?: CorrelatedReadOptions): Promise<RecordedEvent[]>;

  /** Catch-up then live delivery of the global feed, never skipping an event that commits late. */
  subscribe(options: SubscribeOptions): Subscription;

  /** Removes a stream's payloads for the right to be forgotten and leaves an audited tombstone. */
  purge(stream: string, request: PurgeRequest): Promise<Tombstone>;

  /** The tombstone of a purged stream, if it was purged. */
  tombstone(stream: string): Promise<Tombstone | undefined>;

  close(): Promise<void>;
}
