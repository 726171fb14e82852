import type { RecordedEvent } from "../events/envelope.js";
import type { Tombstone } from "../ports/event-store.js";
import { ChangeSignal } from "../store-kit/feed-subscription.js";

/** One stream of one namespace. */
export interface StoredStream {
  events: RecordedEvent[];
  epoch: number;
  tombstone?: Tombstone;
}

/** One event in the global feed, which all namespaces share (each store reads only its own). */
export interface FeedEntry {
  readonly namespace: string;
  readonly key: string;
  readonly event: RecordedEvent;
}

/**
 * The data behind one or more `MemoryEventStore`s and `MemoryProjectionStore`s; share it to open
 * several namespaces over the same "database".
 */
export class MemoryEventStorage {
  /** namespace → stream → stored stream (nested maps: no key strings built per call). */
  readonly streams = new Map<string, Map<string, StoredStream>>();
  readonly feed: FeedEntry[] = [];
  /** namespace → event id → stream: event ids are unique per namespace. */
  readonly ids = new Map<string, Map<string, string>>();
  readonly changed = new ChangeSignal();
  /** namespace NUL correlation id → feed entries of that correlation, in position order. */
  readonly correlations = new Map<string, FeedEntry[]>();
  position = 0;
}
