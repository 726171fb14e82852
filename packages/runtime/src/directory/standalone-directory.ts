import type { Directory, DirectoryEntry } from "@granary/core";

/**
 * The directory of a standalone silo: there is no other silo to find an actor on (the catalog is
 * the directory), so nothing is stored per actor; it only issues fencing epochs. Epochs are
 * `max(previous + 1, now ms)` across all actors, so each is larger than every epoch this process
 * issued before and, through the clock, than those of earlier runs on the same store.
 */
export class StandaloneDirectory implements Directory {
  #lastEpoch = 0;

  constructor(readonly now: () => number = Date.now) {}

  async register(actorKey: string, siloId: string, activationId: string): Promise<DirectoryEntry> {
    this.#lastEpoch = Math.max(this.#lastEpoch + 1, this.now());
    return { actorKey, siloId, activationId, epoch: this.#lastEpoch };
  }

  async lookup(): Promise<DirectoryEntry | undefined> {
    return undefined;
  }

  async unregister(): Promise<boolean> {
    return true;
  }

  async removeSilo(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}
