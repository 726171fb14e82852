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

/**
 * Snapshots are a cache of replay, never the source of truth: losing one only costs replay time.
 * `save` keeps the newest per stream (a save with a lower version than the stored one is ignored).
 */
export interface SnapshotStore {
  save(snapshot: Snapshot): Promise<void>;
  /** The newest snapshot of the stream, whatever its snapshotVersion. */
  load(stream: string): Promise<Snapshot | undefined>;
  /** Removes the stream's snapshot (used by purge). */
  delete(stream: string): Promise<void>;
  close(): Promise<void>;
}
