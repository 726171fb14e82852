import { assertStreamName } from "../actor/actor-identity.js";
import { StreamPurgedError } from "../errors.js";
import type { Snapshot, SnapshotPurge, SnapshotStore } from "../ports/snapshot-store.js";
import { clonePlain } from "../store-kit/clone.js";
import { validateSnapshot } from "../store-kit/snapshot-validation.js";

/** The data behind one or more {@link MemorySnapshotStore}s; share it to re-open or open namespaces side by side. */
export class MemorySnapshotStorage {
  /** Snapshots per namespaced stream, oldest first. */
  readonly snapshots = new Map<string, Snapshot[]>();
  /** Purged namespaced streams: their saves are refused. */
  readonly purged = new Map<string, SnapshotPurge>();
}

export interface MemorySnapshotStoreOptions {
  /** Tenant namespace: the store sees only its own snapshots. @default "default" */
  readonly namespace?: string;
  readonly storage?: MemorySnapshotStorage;
}

/** In-process snapshots, cloned on the way in and out. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #storage: MemorySnapshotStorage;
  readonly #namespace: string;

  constructor(options: MemorySnapshotStoreOptions = {}) {
    this.#storage = options.storage ?? new MemorySnapshotStorage();
    this.#namespace = options.namespace ?? "default";
  }

  async save(snapshot: Snapshot): Promise<void> {
    validateSnapshot(snapshot);
    const key = this.#key(snapshot.stream);
    const purged = this.#storage.purged.get(key);
    if (purged) throw new StreamPurgedError(snapshot.stream, purged.purgedAt, purged.reason);
    let list = this.#storage.snapshots.get(key);
    if (!list) {
      list = [];
      this.#storage.snapshots.set(key, list);
    }
    const copy = clonePlain(snapshot);
    let at = list.length;
    while (at > 0 && (list[at - 1] as Snapshot).version > copy.version) at--;
    if (at > 0 && (list[at - 1] as Snapshot).version === copy.version) list[at - 1] = copy;
    else list.splice(at, 0, copy);
  }

  async load(stream: string): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    const snapshot = this.#storage.snapshots.get(this.#key(stream))?.at(-1);
    return snapshot && clonePlain(snapshot);
  }

  async loadAtOrBelow(stream: string, maxVersion: number, snapshotVersion: number): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    const list = this.#storage.snapshots.get(this.#key(stream)) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const snapshot = list[i] as Snapshot;
      if (snapshot.version <= maxVersion && snapshot.snapshotVersion === snapshotVersion) return clonePlain(snapshot);
    }
    return undefined;
  }

  async delete(stream: string): Promise<void> {
    assertStreamName(stream);
    this.#storage.snapshots.delete(this.#key(stream));
  }

  async purge(stream: string, purge: SnapshotPurge): Promise<void> {
    assertStreamName(stream);
    const key = this.#key(stream);
    if (!this.#storage.purged.has(key))
      this.#storage.purged.set(key, { purgedAt: purge.purgedAt, reason: purge.reason });
    this.#storage.snapshots.delete(key);
  }

  async close(): Promise<void> {}

  #key(stream: string): string {
    return `${this.#namespace}\u0000${stream}`;
  }
}
