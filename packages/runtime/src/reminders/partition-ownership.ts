import { type Directory, messageOf, type PartitionClaim } from "@granary/core";
import type { Logger } from "pino";
import { newCallId } from "../calls/call-context.js";
import { ownerOf, partitionKey } from "./reminder-partitions.js";

interface Owned {
  readonly epoch: number;
  readonly activationId: string;
  readonly siloId: string;
}

export interface PartitionOwnershipOptions {
  readonly partitions: number;
  readonly directory: Directory;
  /** This silo's current identity (a fenced silo rejoins under a new one). */
  readonly siloId: () => string;
  /** Live silo ids as this silo sees them now. */
  readonly liveSilos: () => readonly string[];
  readonly logger: Logger;
}

/**
 * Which reminder partitions this silo fires. The desired owner of a partition is the rendezvous
 * winner over the live silos; a silo takes a partition by registering it in the directory like an
 * activation (never over a live owner), which issues the epoch that fences its store reads and
 * writes. A silo gives up partitions that should move to another (after its ticks in flight end),
 * and takes partitions of silos that died once the directory lets it (their entries die with their
 * lease). Nothing here fires anything: the reminder service asks `claims()` and `holds()`.
 */
export class PartitionOwnership {
  readonly #options: PartitionOwnershipOptions;
  readonly #owned = new Map<number, Owned>();

  constructor(options: PartitionOwnershipOptions) {
    this.#options = options;
  }

  claims(): PartitionClaim[] {
    this.#forgetOtherIdentity();
    return [...this.#owned].map(([partition, owned]) => ({ partition, epoch: owned.epoch }));
  }

  /** True while this silo still fires `partition` under `epoch`. */
  holds(partition: number, epoch: number): boolean {
    return this.#owned.get(partition)?.epoch === epoch && this.#owned.get(partition)?.siloId === this.#options.siloId();
  }

  get ownedCount(): number {
    return this.#owned.size;
  }

  /** Changes whenever this silo's identity or the live membership it sees changes. */
  membershipSignature(): string {
    return `${this.#options.siloId()}|${this.#live().join(",")}`;
  }

  /** The store saw a newer epoch: another silo has the partition now. */
  lost(partition: number): void {
    if (this.#owned.delete(partition)) {
      this.#options.logger.info({ partition }, "reminder partition taken over by another silo");
    }
  }

  /** Partitions this silo owns but should hand to another silo (a silo joined). */
  surplus(): number[] {
    const live = this.#live();
    return [...this.#owned.keys()].filter((p) => ownerOf(p, live) !== this.#options.siloId());
  }

  /** Partitions this silo should own and does not yet. */
  missing(): number[] {
    const live = this.#live();
    const self = this.#options.siloId();
    const missing: number[] = [];
    for (let p = 0; p < this.#options.partitions; p++)
      if (!this.#owned.has(p) && ownerOf(p, live) === self) missing.push(p);
    return missing;
  }

  /** Tries to take each partition; a live previous owner keeps it until it lets go. */
  async acquire(partitions: readonly number[]): Promise<void> {
    const { directory, logger } = this.#options;
    const siloId = this.#options.siloId();
    await Promise.all(
      partitions.map(async (partition) => {
        const activationId = newCallId();
        try {
          const entry = await directory.register(partitionKey(partition), siloId, activationId);
          if (entry.activationId === activationId && siloId === this.#options.siloId()) {
            this.#owned.set(partition, { epoch: entry.epoch, activationId, siloId });
          }
        } catch (error) {
          logger.warn({ partition, err: messageOf(error) }, "could not take a reminder partition; will retry");
        }
      }),
    );
  }

  /** Stops firing `partition` and lets the directory hand it to the next owner. */
  async release(partition: number): Promise<void> {
    const owned = this.#owned.get(partition);
    if (!owned) return;
    this.#owned.delete(partition);
    try {
      await this.#options.directory.unregister(partitionKey(partition), owned.activationId);
    } catch (error) {
      // The entry dies with this silo's lease anyway; a failed unregister only delays the handover.
      this.#options.logger.warn({ partition, err: messageOf(error) }, "could not release a reminder partition");
    }
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.#owned.keys()].map((p) => this.release(p)));
  }

  #live(): string[] {
    const live = [...this.#options.liveSilos()];
    const self = this.#options.siloId();
    if (!live.includes(self)) live.push(self);
    return live.sort();
  }

  #forgetOtherIdentity(): void {
    const self = this.#options.siloId();
    for (const [partition, owned] of this.#owned) if (owned.siloId !== self) this.#owned.delete(partition);
  }
}
