import type {
  AppendOptions,
  AppendResult,
  EventEnvelope,
  EventStore,
  PurgeRequest,
  ReadWithErrorsResult,
  RecordedEvent,
  Snapshot,
  SnapshotStore,
  Subscription,
  Tombstone,
} from "@granary/core";

/**
 * An event store that keeps nothing and checks nothing: every append succeeds at once. Under a silo
 * it leaves only the runtime's own work on the command path (turn, envelopes, commit bookkeeping,
 * snapshot policy), which is what the `es-memory` no-op row measures. Not a store anyone should use.
 */
export class NoopEventStore implements EventStore {
  #position = 0;

  async append(
    _stream: string,
    expectedVersion: number,
    events: readonly EventEnvelope[],
    _options?: AppendOptions,
  ): Promise<AppendResult> {
    this.#position += events.length;
    return { version: expectedVersion + events.length, position: this.#position, duplicate: false };
  }

  async read(): Promise<RecordedEvent[]> {
    return [];
  }

  async readWithErrors(): Promise<ReadWithErrorsResult> {
    return { events: [], errors: [] };
  }

  async latestVersion(): Promise<number> {
    return 0;
  }

  async highestEpoch(): Promise<number> {
    return 0;
  }

  async readAll(): Promise<RecordedEvent[]> {
    return [];
  }

  subscribe(): Subscription {
    return { position: 0, close: async () => {} };
  }

  async purge(stream: string, request: PurgeRequest): Promise<Tombstone> {
    return { stream, purgedAt: new Date().toISOString(), ...request, lastVersion: 0 };
  }

  async tombstone(): Promise<Tombstone | undefined> {
    return undefined;
  }

  async close(): Promise<void> {}
}

/** A snapshot store that drops every snapshot (the snapshot policy still runs, saves cost nothing). */
export class NoopSnapshotStore implements SnapshotStore {
  async save(_snapshot: Snapshot): Promise<void> {}

  async load(): Promise<Snapshot | undefined> {
    return undefined;
  }

  async loadAtOrBelow(): Promise<Snapshot | undefined> {
    return undefined;
  }

  async delete(): Promise<void> {}

  async purge(): Promise<void> {}

  async close(): Promise<void> {}
}
