import type { Directory, DirectoryEntry, EventStore } from "@granary/core";

/**
 * The directory of a standalone silo: there is no other silo to find an actor on (the catalog is
 * the directory), so nothing is stored per actor; it only issues fencing epochs. An epoch is
 * `max(previous + 1, now ms, highest epoch the store accepted for the stream + 1)`: larger than every
 * epoch this process issued and than every epoch an earlier run wrote with, even when the clock went
 * back (an NTP step, a restored VM) — the clock alone would fence every stream until it caught up.
 */
export class StandaloneDirectory implements Directory {
  #lastEpoch = 0;

  constructor(
    readonly store: Pick<EventStore, "highestEpoch">,
    readonly now: () => number = Date.now,
  ) {}

  async register(actorKey: string, siloId: string, activationId: string): Promise<DirectoryEntry> {
    const seen = await this.store.highestEpoch(actorKey);
    this.#lastEpoch = Math.max(this.#lastEpoch + 1, this.now(), seen + 1);
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
