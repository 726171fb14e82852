import type { Snapshot, SnapshotStore } from "../ports/snapshot-store.js";

/** In-process snapshots, cloned on the way in and out. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #namespace: string;

  constructor(options: { readonly namespace?: string } = {}) {
    this.#namespace = options.namespace ?? "default";
  }

  async save(snapshot: Snapshot): Promise<void> {
    const key = this.#key(snapshot.stream);
    const current = this.#snapshots.get(key);
    if (current && current.version > snapshot.version) return;
    this.#snapshots.set(key, structuredClone(snapshot));
  }

  async load(stream: string): Promise<Snapshot | undefined> {
    const snapshot = this.#snapshots.get(this.#key(stream));
    return snapshot && structuredClone(snapshot);
  }

  async delete(stream: string): Promise<void> {
    this.#snapshots.delete(this.#key(stream));
  }

  async close(): Promise<void> {}

  #key(stream: string): string {
    return `${this.#namespace}\u0000${stream}`;
  }
}
