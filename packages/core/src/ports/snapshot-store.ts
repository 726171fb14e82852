import type { JsonValue } from "../events/json-value.js";

export interface Snapshot {
  readonly stream: string;
  /** Stream version the state reflects: replay continues at version + 1. */
  readonly version: number;
  /** The actor class's `snapshotVersion` when taken; a snapshot of another version is ignored. */
  readonly snapshotVersion: number;
  readonly state: JsonValue;
  readonly timestamp: string;
}

/** Why saves for a stream are refused: the stream's purge (kept in the refusal's error). */
export interface SnapshotPurge {
  readonly purgedAt: string;
  readonly reason: string;
}

/**
 * Snapshots are a cache of replay, never the source of truth: losing one only costs replay time.
 * Invariants every implementation keeps (and the conformance suite in `@granary/testing` checks):
 * - `load` returns the newest snapshot of the stream. Older snapshots are kept (one per
 *   `snapshotEvery` events), so `loadAtOrBelow` can start a rebuild of a past version near it;
 *   a save at a version already stored replaces that one.
 * - After `purge(stream)`, the stream has no snapshot and every later `save` for it is refused
 *   with StreamPurgedError, checked atomically with the save's write (SQL stores also refuse when
 *   the event store in the same database holds the stream's tombstone), so no save racing a purge
 *   can write the purged state back.
 */
export interface SnapshotStore {
  /** @throws StreamPurgedError when the stream was purged */
  save(snapshot: Snapshot): Promise<void>;
  /** The newest snapshot of the stream, whatever its snapshotVersion. */
  load(stream: string): Promise<Snapshot | undefined>;
  /**
   * The newest snapshot with `version <= maxVersion` taken with `snapshotVersion` (what `stateAt`
   * starts from); undefined when there is none.
   */
  loadAtOrBelow(stream: string, maxVersion: number, snapshotVersion: number): Promise<Snapshot | undefined>;
  /** Removes the stream's snapshots (saves are still accepted afterwards). */
  delete(stream: string): Promise<void>;
  /** Removes the stream's snapshots and refuses every later save for it (right to be forgotten). */
  purge(stream: string, purge: SnapshotPurge): Promise<void>;
  close(): Promise<void>;
}
