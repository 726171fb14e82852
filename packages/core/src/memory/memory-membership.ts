import type { Clock } from "../ports/clock.js";
import { systemClock } from "../ports/clock.js";
import type { MemberInfo, Membership, MembershipChange, SiloAddress } from "../ports/membership.js";

/**
 * In-process membership for in-process test clusters: the same lease rules as the Redis one, on a
 * shared object instead of a server. Share one instance between the silos of a test.
 */
export class MemoryMembership implements Membership {
  readonly #members = new Map<string, MemberInfo>();
  readonly #listeners = new Set<(change: MembershipChange) => void>();
  readonly #clock: Clock;

  constructor(options: { readonly clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async join(member: SiloAddress, leaseMs: number): Promise<void> {
    const info: MemberInfo = { ...member, leaseExpiresAt: this.#clock.now() + leaseMs };
    this.#members.set(member.siloId, info);
    this.#emit({ kind: "joined", member: info });
  }

  async renew(siloId: string, leaseMs: number): Promise<boolean> {
    const current = this.#members.get(siloId);
    if (!current) return false;
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

  watch(listener: (change: MembershipChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  #emit(change: MembershipChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}
