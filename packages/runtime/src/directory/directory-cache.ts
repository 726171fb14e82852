import type { DirectoryEntry } from "@granary/core";

/**
 * Recent directory lookups, so a hot actor on another silo costs no Redis round trip per call.
 * Entries are dropped when a call finds them wrong (the actor moved) or their silo dies. Bounded:
 * the oldest entry goes when full (Map iteration order is insertion order).
 */
export class DirectoryCache {
  readonly #entries = new Map<string, DirectoryEntry>();

  constructor(readonly capacity = 100_000) {}

  get(actorKey: string): DirectoryEntry | undefined {
    return this.#entries.get(actorKey);
  }

  set(entry: DirectoryEntry): void {
    this.#entries.delete(entry.actorKey);
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(entry.actorKey, entry);
  }

  invalidate(actorKey: string): void {
    this.#entries.delete(actorKey);
  }

  invalidateSilo(siloId: string): void {
    for (const [key, entry] of this.#entries) if (entry.siloId === siloId) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
