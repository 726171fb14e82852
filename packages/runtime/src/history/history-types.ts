import type { Actor, DomainEvent, EventSourcedActor, RecordedEvent } from "@granary/core";

/** The event union of an event-sourced actor class's instances. */
export type EventOf<T extends Actor> = T extends EventSourcedActor<unknown, infer E> ? E : never;

/** The state type of an event-sourced actor class's instances. */
export type StateOf<T extends Actor> = T extends EventSourcedActor<infer S, DomainEvent> ? S : never;

/** A recorded event typed by the actor's event union: `type` narrows `data`. */
export type HistoryEvent<E extends DomainEvent> = E extends DomainEvent
  ? Omit<RecordedEvent, "type" | "data"> & { readonly type: E["type"]; readonly data: Omit<E, "type"> }
  : never;

/**
 * Which events of one actor `history` returns: versions `fromVersion..toVersion`, raised between
 * `from` and `to` (inclusive; times rely on the stream's timestamps growing with its versions),
 * at most `limit` per page.
 */
export interface HistoryQuery {
  /** @default 1 */
  readonly fromVersion?: number;
  /** @default the stream's latest version */
  readonly toVersion?: number;
  /** Earliest event time (ISO 8601 string or Date). @default no bound */
  readonly from?: string | Date;
  /** Latest event time (ISO 8601 string or Date). @default no bound */
  readonly to?: string | Date;
  /** Events per page, 1..10,000. @default 100 */
  readonly limit?: number;
}

/** One page of history; pass `next` back to `history` for the following page. */
export interface HistoryPage<E extends DomainEvent = DomainEvent> {
  readonly events: HistoryEvent<E>[];
  /** The query for the next page; absent on the last page. */
  readonly next?: HistoryQuery;
}

/** Which events of one correlation `correlated` returns (commit order). */
export interface CorrelatedQuery {
  /** Events after this feed position (paging). @default 0 */
  readonly afterPosition?: number;
  /** Events per page, 1..10,000. @default 100 */
  readonly limit?: number;
}

/** One page of a correlation's events; pass `next` back to `correlated` for the following page. */
export interface CorrelatedPage {
  readonly events: RecordedEvent[];
  readonly next?: CorrelatedQuery;
}

/** The state of an actor at a past point, rebuilt in an instance of its own. */
export interface PastState<S> {
  readonly state: S;
  /** The version the state reflects (0 = before the first event). */
  readonly version: number;
  /** When the event at `version` was raised; null at version 0. */
  readonly timestamp: string | null;
}
