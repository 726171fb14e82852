import { assertStreamName } from "../actor/actor-identity.js";
import type { Snapshot, SnapshotStore } from "../ports/snapshot-store.js";
import { clonePlain } from "../store-kit/clone.js";
import { validateSnapshot } from "../store-kit/snapshot-validation.js";

/** The data behind one or more {@link MemorySnapshotStore}s; share it to re-open or open namespaces side by side. */
export class MemorySnapshotStorage {
  readonly snapshots = new Map<string, Snapshot>();
}

export interface MemorySnapshotStoreOptions {
  /** Tenant namespace: the store sees only its own snapshots. @default "default" */
  readonly namespace?: string;
  readonly storage?: MemorySnapshotStorage;
}

/** In-process snapshots, cloned on the way in and out. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #snapshots: Map<string, Snapshot>;
  readonly #namespace: string;

  constructor(options: MemorySnapshotStoreOptions = {}) {
    this.#snapshots = (options.storage ?? new MemorySnapshotStorage()).snapshots;
    this.#namespace = options.namespace ?? "default";
  }

  async save(snapshot: Snapshot): Promise<void> {
    validateSnapshot(snapshot);
    const key = this.#key(snapshot.stream);
    const current = this.#snapshots.get(key);
    if (current && current.version > snapshot.version) return;
    this.#snapshots.set(key, clonePlain(snapshot));
  }

  async load(stream: string): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    const snapshot = this.#snapshots.get(this.#key(stream));
    return snapshot && clonePlain(snapshot);
  }

  async delete(stream: string): Promise<void> {
    assertStreamName(stream);
    this.#snapshots.delete(this.#key(stream));
  }

  async close(): Promise<void> {}

  #key(stream: string): string {
    return `${this.#namespace}\u0000${stream}`;
  }
}
