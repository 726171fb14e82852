import type { JsonObject } from "./json-value.js";

/** Who and why: carried by every event, so history can be audited and traced back to its call. */
export interface EventMetadata {
  /** Shared by every event and call that stems from one external request. */
  readonly correlationId: string;
  /** The id of the message (call or event) that directly caused this event. */
  readonly causationId: string;
  /** The id of the command (actor call) whose turn raised this event. */
  readonly commandId: string;
  /**
   * The user on whose behalf the call was made, when the caller gave one. Granary records what the
   * caller asserts (a client or silo that holds the cluster key); it does not authenticate users.
   */
  readonly userId?: string;
  /** The actor method whose turn raised the event (the outermost turn of a reentrant chain). */
  readonly method?: string;
  /** When another actor made the call: the call id of the calling actor's own call (its commandId). */
  readonly parentCallId?: string;
  /** What the caller passed as the call option `metadata` (e.g. `{ reason: "chargeback #123" }`). */
  readonly callMetadata?: JsonObject;
  /** W3C trace id of the span active when the event was raised, when tracing is on. */
  readonly traceId?: string;
  readonly spanId?: string;
  /** Set when the call that raised the event carried an idempotency key (see `CallOptions`). */
  readonly idempotency?: IdempotencyRecord;
}

/** What a keyed call leaves in the metadata of each event it commits. */
export interface IdempotencyRecord {
  /** The caller's idempotency key. */
  readonly key: string;
  /** The method called, and a digest of its arguments: a key names one command. */
  readonly method: string;
  readonly args: string;
  /** On the last event of the call's final commit: its reply, msgpack in base64. */
  readonly reply?: string;
}

/**
 * An event as it is written: immutable, identified by a ULID that doubles as the idempotency key.
 * Versions in a stream start at 1 and have no gaps.
 */
export interface EventEnvelope<Data extends JsonObject = JsonObject> {
  /** ULID; re-sending an append with the same ids and content is a no-op. */
  readonly id: string;
  readonly type: string;
  /** Stream name, e.g. `Account/acc-1` (see {@link streamOf}). */
  readonly stream: string;
  readonly version: number;
  /** Shape version of `data`; upcasters bring older shapes to the current one on read. */
  readonly schemaVersion: number;
  readonly data: Data;
  readonly metadata: EventMetadata;
  /** ISO 8601 UTC time at which the event was raised. */
  readonly timestamp: string;
}

/** An event as it is read back: with its position in the store's global ordered feed. */
export interface RecordedEvent<Data extends JsonObject = JsonObject> extends EventEnvelope<Data> {
  /** Strictly increasing across the whole store (within a namespace feed); gaps are allowed. */
  readonly position: number;
}

/** The event objects actors raise: a discriminated union on `type`, the rest is the payload. */
export interface DomainEvent {
  readonly type: string;
}

/** Stream name of an actor: `<type>/<id>`. The id may contain any character, including `/`. */
export function streamOf(actorType: string, actorId: string): string {
  return `${actorType}/${actorId}`;
}
