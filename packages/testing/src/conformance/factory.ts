import type { EventStore, SnapshotStore, Upcasters } from "@granary/core";

/** What the conformance suite asks of a store when it opens one. */
export interface StoreOpenOptions {
  /**
   * The namespace to open. The suite gives every test its own namespace and opens a second one
   * beside it for isolation tests, so a store may share one database across all tests.
   */
  readonly namespace: string;
  /** Upcasters the store applies on read; absent means none. */
  readonly upcasters?: Upcasters;
}

/**
 * How the event store conformance suite reaches a store. `open` may be called several times in one
 * test: on two namespaces of the same database (isolation) and again after `close` (durability),
 * so it must open the same underlying database each time until the next `reset`.
 *
 * @example
 * let path = "";
 * eventStoreConformance("SqliteEventStore", {
 *   reset: async () => { path = join(tmpdir(), `granary-${randomUUID()}.db`); },
 *   open: async ({ namespace, upcasters }) => new SqliteEventStore({ path, namespace, ...(upcasters && { upcasters }) }),
 *   corrupt: async (_store, stream, version, namespace) => writeGarbageRow(path, namespace, stream, version),
 * });
 */
export interface EventStoreFactory {
  /** Opens a store on the current database. The suite closes every store it opened after each test. */
  open(options: StoreOpenOptions): Promise<EventStore>;
  /** Called before each test: switch to a fresh, empty database (optional when namespaces suffice). */
  reset?(): Promise<void>;
  /** Called once after the last test: remove databases, stop servers. */
  teardown?(): Promise<void>;
  /**
   * Overwrites the stored event at (namespace, stream, version) with bytes that cannot be decoded
   * (e.g. data that is not JSON), bypassing the store's API. Stores that cannot do that omit it and
   * the corrupt-row test is skipped.
   */
  corrupt?(store: EventStore, stream: string, version: number, namespace: string): Promise<void>;
}

/** How the snapshot store conformance suite reaches a store; same contract as {@link EventStoreFactory}. */
export interface SnapshotStoreFactory {
  open(options: { readonly namespace: string }): Promise<SnapshotStore>;
  reset?(): Promise<void>;
  teardown?(): Promise<void>;
}
