import type { JsonValue } from "../events/json-value.js";

/** Where a projection stands in the feed, and which owner wrote that last. */
export interface Checkpoint {
  /** Feed position of the last event the projection has processed; 0 = nothing yet. */
  readonly position: number;
  /** Fencing epoch of the owner that wrote this checkpoint (0 when unfenced). */
  readonly epoch: number;
  /** True once the projection has caught up with the feed head at least once (a rebuild is done). */
  readonly ready: boolean;
}

/**
 * One atomic step of a projection: document changes plus the checkpoint they bring it to.
 * `null` deletes a document.
 */
export interface ProjectionCommit {
  /** The checkpoint position this batch was computed from; anything else is CheckpointConflictError. */
  readonly expectedPosition: number;
  /** The new checkpoint position (>= expectedPosition). */
  readonly position: number;
  /** Owner epoch; older than the stored one is ProjectionFencedError. @default 0 (unfenced) */
  readonly epoch?: number;
  /** Marks the projection as caught up (sticky). @default false */
  readonly ready?: boolean;
  /** Document upserts (`JsonValue`) and deletes (`null`), by key. */
  readonly documents?: ReadonlyMap<string, JsonValue | null>;
  /**
   * Runs inside the same transaction, before the checkpoint is written, with the store's
   * transaction handle (SQLite: the better-sqlite3 Database, synchronous only; PostgreSQL: the
   * pg PoolClient). A handler projection writes its own tables here. Stores without transactions
   * (memory, Redis) reject a commit that has it.
   */
  readonly transaction?: (handle: unknown) => void | Promise<void>;
}

export interface DocumentPage {
  readonly items: readonly { readonly key: string; readonly document: JsonValue }[];
  /** Cursor for the next page (the last key), or undefined at the end. */
  readonly next: string | undefined;
}

export interface ListDocumentsOptions {
  /** Keys strictly greater than this (the `next` of the previous page). */
  readonly after?: string;
  /** At most this many items. */
  readonly limit: number;
  /** Only keys starting with this. */
  readonly prefix?: string;
}

/**
 * Read-model storage beside an event store (same SQLite file, same PostgreSQL database, same Redis):
 * per projection, JSON documents by key and a checkpoint. Invariants every implementation keeps
 * (the projection-store conformance suite in `@granary/testing` checks them):
 * - `commit` applies its documents and moves the checkpoint in ONE atomic step: after a crash
 *   either both are visible or neither, so each event affects a document exactly once.
 * - `commit` is refused with ProjectionFencedError when its epoch is older than the stored one,
 *   and with CheckpointConflictError when the stored position is not `expectedPosition`; a refused
 *   commit changes nothing.
 * - Projections are isolated from each other and namespaces from each other.
 * - `list` is ordered by key (string order of the UTF-16 code units is not promised; each store
 *   orders by its own collation, consistently across pages).
 * - `headPosition` is the highest feed position of the namespace's readable events (0 when none).
 */
export interface ProjectionStore {
  /** The namespace (tenant) whose feed and documents this store holds. */
  readonly namespace: string;
  checkpoint(projection: string): Promise<Checkpoint | undefined>;
  commit(projection: string, commit: ProjectionCommit): Promise<void>;
  getDocuments(projection: string, keys: readonly string[]): Promise<Map<string, JsonValue>>;
  getDocument(projection: string, key: string): Promise<JsonValue | undefined>;
  listDocuments(projection: string, options: ListDocumentsOptions): Promise<DocumentPage>;
  countDocuments(projection: string): Promise<number>;
  /** The checkpoints of every projection of the namespace, by projection id. */
  checkpoints(): Promise<Map<string, Checkpoint>>;
  /** Deletes a projection's documents and checkpoint (an old version after its rebuild swapped in). */
  drop(projection: string): Promise<void>;
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

/** An event store that can open the projection store living beside it (chosen automatically by the silo). */
export interface ProjectionStoreProvider {
  openProjectionStore(): ProjectionStore;
}

/** True when `store` offers a projection store beside it. */
export function providesProjectionStore(store: unknown): store is ProjectionStoreProvider {
  return typeof (store as Partial<ProjectionStoreProvider> | null)?.openProjectionStore === "function";
}
