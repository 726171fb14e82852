import type { Directory, DirectoryEntry } from "../ports/directory.js";

export interface MemoryDirectoryOptions {
  /** Whether a silo is still a live member; an entry owned by a dead silo may be taken over. */
  readonly isLive?: (siloId: string) => boolean;
  /** Epoch source; epochs are max(previous + 1, now()) so they keep growing across restarts. */
  readonly now?: () => number;
}

/** The directory of a standalone silo (and of in-process test clusters). */
export class MemoryDirectory implements Directory {
  readonly #entries = new Map<string, DirectoryEntry>();
  readonly #epochs = new Map<string, number>();
  readonly #isLive: (siloId: string) => boolean;
  readonly #now: () => number;

  constructor(options: MemoryDirectoryOptions = {}) {
    this.#isLive = options.isLive ?? (() => true);
    this.#now = options.now ?? Date.now;
  }

  async register(actorKey: string, siloId: string, activationId: string): Promise<DirectoryEntry> {
    const current = this.#entries.get(actorKey);
    if (current && this.#isLive(current.siloId)) return current;
    const epoch = Math.max((this.#epochs.get(actorKey) ?? 0) + 1, this.#now());
    this.#epochs.set(actorKey, epoch);
    const entry: DirectoryEntry = { actorKey, siloId, activationId, epoch };
    this.#entries.set(actorKey, entry);
    return entry;
  }

  async lookup(actorKey: string): Promise<DirectoryEntry | undefined> {
    const current = this.#entries.get(actorKey);
    return current && this.#isLive(current.siloId) ? current : undefined;
  }

  async unregister(actorKey: string, activationId: string): Promise<boolean> {
    if (this.#entries.get(actorKey)?.activationId !== activationId) return false;
    this.#entries.delete(actorKey);
    return true;
  }

  async removeSilo(siloId: string): Promise<number> {
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.siloId === siloId) {
        this.#entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {}
}
