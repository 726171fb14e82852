import {
  type Clock,
  ConnectionError,
  type Directory,
  type DirectoryEntry,
  type MemberInfo,
  type Membership,
  type MembershipChange,
  type SiloAddress,
} from "@granary/core";
import type { TestNetwork } from "./test-network.js";

/** What the test did to one silo. */
export interface SiloFaults {
  /** Cut off from membership, directory, other silos and clients (crashed or partitioned). */
  isolated: boolean;
  /** Crashed: also cut off from every store, for good. */
  crashed: boolean;
  /** Appends reach the store this long after they were made (on the cluster's clock). */
  appendDelayMs: number;
  /** Appends fail with this before reaching the store. */
  appendFailure: Error | undefined;
  /** Appends being held back by `appendDelayMs`: each fails when called (the cluster stops). */
  readonly held: Set<(error: Error) => void>;
}

export function noFaults(): SiloFaults {
  return { isolated: false, crashed: false, appendDelayMs: 0, appendFailure: undefined, held: new Set() };
}

function unreachable(what: string, index: number): ConnectionError {
  return new ConnectionError(`${what} is unreachable from silo ${index} (fault injected by the test)`, {
    retryable: true,
  });
}

/** Where silo `index` finds the cluster's shared parts; changes with the faults the test injects. */
export interface SiloSeat {
  readonly index: number;
  readonly faults: SiloFaults;
  readonly network: TestNetwork;
  /** Silo index of each silo id that joined (incarnations after a rejoin included). */
  readonly indexOf: Map<string, number>;
}

/**
 * One silo's view of the shared membership: refused while the silo is isolated, and with each
 * member's address pointing at the relay from this silo to that member, so the network can cut it.
 * (Silos advertise their client relay, which is what the shared membership and owner hints carry.)
 */
export class MembershipView implements Membership {
  readonly #shared: Membership;
  readonly #seat: SiloSeat;

  constructor(shared: Membership, seat: SiloSeat) {
    this.#shared = shared;
    this.#seat = seat;
  }

  async join(member: SiloAddress, leaseMs: number): Promise<void> {
    this.#check();
    this.#seat.indexOf.set(member.siloId, this.#seat.index);
    await this.#shared.join(member, leaseMs);
  }

  async renew(siloId: string, leaseMs: number): Promise<boolean> {
    this.#check();
    return this.#shared.renew(siloId, leaseMs);
  }

  async leave(siloId: string): Promise<void> {
    this.#check();
    await this.#shared.leave(siloId);
  }

  async liveMembers(): Promise<MemberInfo[]> {
    this.#check();
    return (await this.#shared.liveMembers()).map((member) => this.#seen(member));
  }

  async removeExpired(): Promise<string[]> {
    this.#check();
    return this.#shared.removeExpired();
  }

  /** Changes announced while the silo is isolated never reach it; its refreshes catch up after. */
  watch(listener: (change: MembershipChange) => void): () => void {
    return this.#shared.watch((change) => {
      if (this.#seat.faults.isolated) return;
      listener(change.kind === "joined" ? { kind: "joined", member: this.#seen(change.member) } : change);
    });
  }

  async close(): Promise<void> {}

  #seen(member: MemberInfo): MemberInfo {
    const peer = this.#seat.indexOf.get(member.siloId);
    if (peer === undefined || peer === this.#seat.index) return member;
    const port = this.#seat.network.port(this.#seat.index, peer);
    return port === undefined ? member : { ...member, port };
  }

  #check(): void {
    if (this.#seat.faults.isolated) throw unreachable("membership", this.#seat.index);
  }
}

/** One silo's view of the shared directory: refused while the silo is isolated. */
export class DirectoryView implements Directory {
  readonly #shared: Directory;
  readonly #seat: SiloSeat;

  constructor(shared: Directory, seat: SiloSeat) {
    this.#shared = shared;
    this.#seat = seat;
  }

  async register(actorKey: string, siloId: string, activationId: string): Promise<DirectoryEntry> {
    this.#check();
    return this.#shared.register(actorKey, siloId, activationId);
  }

  async lookup(actorKey: string): Promise<DirectoryEntry | undefined> {
    this.#check();
    return this.#shared.lookup(actorKey);
  }

  async unregister(actorKey: string, activationId: string): Promise<boolean> {
    this.#check();
    return this.#shared.unregister(actorKey, activationId);
  }

  async removeSilo(siloId: string): Promise<number> {
    this.#check();
    return this.#shared.removeSilo(siloId);
  }

  async close(): Promise<void> {}

  #check(): void {
    if (this.#seat.faults.isolated) throw unreachable("the directory", this.#seat.index);
  }
}

/** Calls that do not talk to the store, or that a crashed silo's leftovers may still make harmlessly. */
const LOCAL_METHODS = new Set(["subscribe", "openProjectionStore", "close"]);

/**
 * One silo's handle on a shared store (events, snapshots, reminders): every call fails once the
 * silo crashed; an event store's appends can be delayed or failed. Everything else passes through
 * to the shared instance, so the store's own rules (versions, epochs, fencing) decide as usual.
 */
export function storeView<T extends object>(shared: T, seat: SiloSeat, clock: Clock, what: string): T {
  return new Proxy(shared, {
    get(target, property) {
      // The store itself as `this`: its getters and methods may read private fields.
      const value = Reflect.get(target, property);
      if (typeof value !== "function" || typeof property !== "string" || LOCAL_METHODS.has(property)) {
        return typeof value === "function" ? value.bind(target) : value;
      }
      const { faults, index } = seat;
      if (property === "append") {
        return async (...args: unknown[]) => {
          if (faults.crashed) throw unreachable(what, index);
          if (faults.appendFailure) throw faults.appendFailure;
          if (faults.appendDelayMs > 0) await hold(faults, clock, faults.appendDelayMs);
          // A silo that crashed while its write was on the way never gets it to the store.
          if (faults.crashed) throw unreachable(what, index);
          return value.apply(target, args);
        };
      }
      return (...args: unknown[]) =>
        faults.crashed ? Promise.reject(unreachable(what, index)) : value.apply(target, args);
    },
  });
}

/** Waits `ms` on the clock, unless the cluster stops first (then fails, so nothing waits forever). */
function hold(faults: SiloFaults, clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      clock.clearTimeout(timer);
      faults.held.delete(fail);
      reject(error);
    };
    const timer = clock.setTimeout(() => {
      faults.held.delete(fail);
      resolve();
    }, ms);
    faults.held.add(fail);
  });
}
