import type { Clock } from "../ports/clock.js";
import { systemClock } from "../ports/clock.js";
import type { MemberInfo, Membership, MembershipChange, SiloAddress } from "../ports/membership.js";
import { MembershipWatchers } from "../store-kit/membership-watcher.js";

export interface MemoryMembershipOptions {
  /** Time for leases and for the watch's polls; a ManualClock makes expiry a step of the test. @default systemClock */
  readonly clock?: Clock;
  /**
   * How often `watch` re-reads the members, which is how it notices a lease that expired while
   * nobody removed the member. @default 100
   */
  readonly watchPollIntervalMs?: number;
}

/**
 * In-process membership for in-process test clusters: the same lease rules as the Redis one, on a
 * shared object instead of a server. Share one instance between the silos of a test.
 */
export class MemoryMembership implements Membership {
  readonly #members = new Map<string, MemberInfo>();
  readonly #listeners = new Set<(change: MembershipChange) => void>();
  readonly #watchers = new MembershipWatchers();
  readonly #clock: Clock;
  readonly #watchPollIntervalMs: number;

  constructor(options: MemoryMembershipOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#watchPollIntervalMs = options.watchPollIntervalMs ?? 100;
  }

  async join(member: SiloAddress, leaseMs: number): Promise<void> {
    const info: MemberInfo = { ...member, leaseExpiresAt: this.#clock.now() + leaseMs };
    this.#members.set(member.siloId, info);
    this.#emit({ kind: "joined", member: info });
  }

  async renew(siloId: string, leaseMs: number): Promise<boolean> {
    const current = this.#members.get(siloId);
    if (!current) return false;
    if (current.leaseExpiresAt <= this.#clock.now()) {
      // Expired is dead, removed or not: a late renew must not resurrect a silo others wrote off.
      this.#members.delete(siloId);
      this.#emit({ kind: "died", siloId });
      return false;
    }
    this.#members.set(siloId, { ...current, leaseExpiresAt: this.#clock.now() + leaseMs });
    return true;
  }

  async leave(siloId: string): Promise<void> {
    if (this.#members.delete(siloId)) this.#emit({ kind: "left", siloId });
  }

  async liveMembers(): Promise<MemberInfo[]> {
    const now = this.#clock.now();
    return [...this.#members.values()].filter((m) => m.leaseExpiresAt > now);
  }

  async removeExpired(): Promise<string[]> {
    const now = this.#clock.now();
    const dead = [...this.#members.values()].filter((m) => m.leaseExpiresAt <= now).map((m) => m.siloId);
    for (const siloId of dead) {
      this.#members.delete(siloId);
      this.#emit({ kind: "died", siloId });
    }
    return dead;
  }

  /** Whether the member is registered with an unexpired lease (for a MemoryDirectory's `isLive`). */
  isLive(siloId: string): boolean {
    const member = this.#members.get(siloId);
    return member !== undefined && member.leaseExpiresAt > this.#clock.now();
  }

  /** First a `joined` for every live member, then each change once; an expired lease is reported `died`. */
  watch(listener: (change: MembershipChange) => void): () => void {
    return this.#watchers.watch(
      {
        liveMembers: () => this.liveMembers(),
        listen: (onChange) => {
          this.#listeners.add(onChange);
          return () => this.#listeners.delete(onChange);
        },
        pollIntervalMs: this.#watchPollIntervalMs,
        clock: this.#clock,
        listenerFailed: () => {},
      },
      listener,
    );
  }

  /** Stops this instance's watches; the members stay (other silos may share the instance). */
  async close(): Promise<void> {
    this.#watchers.stopAll();
    this.#listeners.clear();
  }

  #emit(change: MembershipChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}
