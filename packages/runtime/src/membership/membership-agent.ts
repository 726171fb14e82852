import {
  type Clock,
  type Directory,
  type MemberInfo,
  type Membership,
  messageOf,
  monotonicNow,
  type SiloAddress,
  systemClock,
  type TimerHandle,
} from "@granary/core";
import type { Logger } from "pino";

export interface MembershipAgentOptions {
  readonly membership: Membership;
  readonly directory: Directory;
  readonly self: SiloAddress;
  readonly leaseMs: number;
  readonly logger: Logger;
  /**
   * Heartbeats, the watchdog and lease validity run on it (its monotonic reading); a ManualClock
   * makes a lease lapse as a step of a test. @default systemClock
   */
  readonly clock?: Clock;
  /** Called once when this silo must stop serving: its lease lapsed or it was declared dead. */
  readonly onFenced: (reason: string) => void;
  /**
   * Called when another silo left (gracefully: it answers what it accepted) or died (its lease
   * expired: nothing it has in flight will be answered), so caches and connections can forget it.
   */
  readonly onSiloGone: (member: MemberInfo, how: "left" | "died") => void;
}

/**
 * Keeps this silo's membership lease alive and watches the others.
 *
 * Self-fencing: the lease counts from the moment a renew was *sent* (the clock's monotonic reading), minus a safety
 * margin, so this silo stops serving before the membership (which counts from when Redis *received*
 * the renew) lets anyone take its actors. A process frozen past its lease (SIGSTOP, a long GC) sees
 * the lapse on its first tick after waking, and `leaseValid()` is checked before every commit.
 */
export class MembershipAgent {
  readonly #options: MembershipAgentOptions;
  readonly #margin: number;
  readonly #clock: Clock;
  #validUntil = 0;
  #live: MemberInfo[] = [];
  #liveIds = new Set<string>();
  #heartbeat: TimerHandle | undefined;
  #watchdog: TimerHandle | undefined;
  #unwatch: (() => void) | undefined;
  #fenced = false;
  #stopped = false;
  #housekeeping: Promise<void> | undefined;

  constructor(options: MembershipAgentOptions) {
    this.#options = options;
    this.#margin = Math.max(200, Math.floor(options.leaseMs / 5));
    this.#clock = options.clock ?? systemClock;
  }

  get siloId(): string {
    return this.#options.self.siloId;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** True while this silo may serve and commit: lease renewed recently enough and not fenced. */
  leaseValid(): boolean {
    return !this.#fenced && monotonicNow(this.#clock) < this.#validUntil;
  }

  /** Live silo ids as of the last refresh (always includes self while the lease is valid). */
  liveSiloIds(): readonly string[] {
    return this.#live.map((m) => m.siloId);
  }

  member(siloId: string): MemberInfo | undefined {
    return this.#live.find((m) => m.siloId === siloId);
  }

  isLive(siloId: string): boolean {
    return this.#liveIds.has(siloId);
  }

  async start(): Promise<void> {
    const { membership, self, leaseMs } = this.#options;
    const sentAt = monotonicNow(this.#clock);
    await membership.join(self, leaseMs);
    this.#validUntil = sentAt + leaseMs - this.#margin;
    await this.#refresh();
    this.#unwatch = membership.watch((change) => {
      if (change.kind === "joined") {
        void this.#refresh();
      } else {
        this.#forget(change.siloId, change.kind);
      }
    });
    this.#scheduleHeartbeat();
    this.#scheduleWatchdog();
  }

  /** Leaves the cluster (graceful shutdown). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimers();
    if (!this.#fenced) {
      await this.#options.membership.leave(this.siloId).catch((error: unknown) => {
        this.#options.logger.warn({ err: messageOf(error) }, "leaving membership failed; the lease will expire");
      });
    }
  }

  /** Renewals are this far apart, counted from when the previous one was sent. */
  get #interval(): number {
    return Math.max(50, Math.floor(this.#options.leaseMs / 4));
  }

  #scheduleHeartbeat(delayMs = this.#interval): void {
    if (this.#stopped || this.#fenced) return;
    this.#heartbeat = this.#clock.setTimeout(() => void this.#beat(), Math.max(0, delayMs));
  }

  /** Independent of the heartbeat, so a hung renew cannot keep an expired silo serving. */
  #scheduleWatchdog(): void {
    if (this.#stopped || this.#fenced) return;
    this.#watchdog = this.#clock.setTimeout(
      () => {
        if (!this.#checkLease()) this.#scheduleWatchdog();
      },
      Math.max(50, Math.floor(this.#options.leaseMs / 10)),
    );
  }

  /**
   * Renews the lease, then schedules the next renewal from when this one was sent. Refreshing the
   * member list and removing dead silos run beside it: slow housekeeping under load must never
   * push the next renewal back. A failed renewal is retried sooner than the usual interval.
   */
  async #beat(): Promise<void> {
    if (this.#checkLease()) return;
    const { membership, leaseMs, logger } = this.#options;
    const sentAt = monotonicNow(this.#clock);
    let renewed: boolean;
    try {
      renewed = await membership.renew(this.siloId, leaseMs);
    } catch (error) {
      logger.warn({ err: messageOf(error) }, "membership heartbeat failed; will fence if the lease lapses");
      if (!this.#checkLease()) this.#scheduleHeartbeat(Math.max(50, Math.floor(leaseMs / 10)));
      return;
    }
    if (!renewed) {
      this.#fence("this silo was declared dead and removed from membership");
      return;
    }
    const tookMs = monotonicNow(this.#clock) - sentAt;
    if (tookMs > this.#interval) {
      logger.warn(
        { tookMs: Math.round(tookMs), leaseMs },
        "membership renewal was slow (Redis or this process is busy)",
      );
    }
    this.#validUntil = Math.max(this.#validUntil, sentAt + leaseMs - this.#margin);
    this.#scheduleHeartbeat(sentAt + this.#interval - monotonicNow(this.#clock));
    if (this.#housekeeping) return;
    this.#housekeeping = this.#refresh()
      .then(() => this.#removeDead())
      .catch((error: unknown) => {
        logger.warn({ err: messageOf(error) }, "membership refresh failed; will retry on the next heartbeat");
      })
      .finally(() => {
        this.#housekeeping = undefined;
      });
  }

  /** Fences when the lease lapsed; returns whether it did. */
  #checkLease(): boolean {
    if (this.#fenced || this.#stopped) return this.#fenced;
    if (monotonicNow(this.#clock) >= this.#validUntil) {
      this.#fence("membership lease lapsed (Redis unreachable or this process was paused)");
      return true;
    }
    return false;
  }

  async #refresh(): Promise<void> {
    const live = await this.#options.membership.liveMembers();
    const previous = this.#live;
    this.#live = live;
    this.#liveIds = new Set(live.map((m) => m.siloId));
    for (const member of previous) {
      if (this.#liveIds.has(member.siloId)) continue;
      this.#options.onSiloGone(member, member.leaseExpiresAt <= this.#clock.now() ? "died" : "left");
    }
  }

  async #removeDead(): Promise<void> {
    const dead = await this.#options.membership.removeExpired();
    for (const siloId of dead) {
      const removed = await this.#options.directory.removeSilo(siloId);
      this.#options.logger.warn({ dead: siloId, entries: removed }, "removed a dead silo from the cluster");
      this.#forget(siloId, "died");
    }
  }

  #forget(siloId: string, how: "left" | "died"): void {
    if (siloId === this.siloId) return;
    const member = this.#live.find((m) => m.siloId === siloId);
    this.#live = this.#live.filter((m) => m.siloId !== siloId);
    this.#liveIds.delete(siloId);
    if (member) this.#options.onSiloGone(member, how);
  }

  #fence(reason: string): void {
    if (this.#fenced) return;
    this.#fenced = true;
    this.#clearTimers();
    this.#options.logger.error(
      { reason },
      "silo fenced: it stops serving so no other silo's actors can be written twice",
    );
    this.#options.onFenced(reason);
  }

  #clearTimers(): void {
    if (this.#heartbeat) this.#clock.clearTimeout(this.#heartbeat);
    if (this.#watchdog) this.#clock.clearTimeout(this.#watchdog);
    this.#unwatch?.();
    this.#heartbeat = undefined;
    this.#watchdog = undefined;
    this.#unwatch = undefined;
  }
}
