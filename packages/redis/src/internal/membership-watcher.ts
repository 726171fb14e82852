import type { MemberInfo, MembershipChange } from "@granary/core";

export interface MembershipWatcherSource {
  liveMembers(): Promise<MemberInfo[]>;
  /** Subscribes to the pub/sub channel; returns the unlisten function. */
  listen(onMessage: (message: string) => void): () => void;
  readonly pollIntervalMs: number;
  /** A listener threw: reported, and the watch goes on. */
  listenerFailed(error: unknown): void;
}

/**
 * Turns pub/sub messages plus periodic polling into one de-duplicated stream of changes for one
 * listener. The first poll reports every current member as `joined`, so a watcher never misses a
 * member that joined just before it started. Polling also reports as `died` a member whose lease
 * expired even if nobody has removed it yet, and covers pub/sub messages lost during a reconnect.
 */
export class MembershipWatcher {
  readonly #source: MembershipWatcherSource;
  readonly #listener: (change: MembershipChange) => void;
  /** siloId → startedAt of the members this listener was told about. */
  readonly #known = new Map<string, number>();
  readonly #unlisten: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #messages = 0;
  #stopped = false;

  constructor(source: MembershipWatcherSource, listener: (change: MembershipChange) => void) {
    this.#source = source;
    this.#listener = listener;
    this.#unlisten = source.listen((message) => this.#onMessage(message));
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#unlisten();
  }

  #onMessage(message: string): void {
    this.#messages++;
    let change: { kind?: unknown; siloId?: unknown; member?: SiloJson; leaseExpiresAt?: unknown };
    try {
      change = JSON.parse(message);
    } catch {
      return;
    }
    if (change.kind === "joined" && change.member) {
      this.#joined({ ...change.member, leaseExpiresAt: Number(change.leaseExpiresAt) });
    } else if ((change.kind === "left" || change.kind === "died") && typeof change.siloId === "string") {
      this.#gone(change.kind, change.siloId);
    }
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    const messagesBefore = this.#messages;
    try {
      const live = await this.#source.liveMembers();
      // A message that arrived meanwhile is newer than this snapshot: let the next poll reconcile.
      if (!this.#stopped && this.#messages === messagesBefore) {
        const ids = new Set(live.map((m) => m.siloId));
        for (const siloId of [...this.#known.keys()]) if (!ids.has(siloId)) this.#gone("died", siloId);
        for (const member of live) this.#joined(member);
      }
    } catch {
      // Redis unreachable: keep what we know and try again at the next tick.
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#poll(), this.#source.pollIntervalMs);
    this.#timer.unref?.();
  }

  #joined(member: MemberInfo): void {
    if (this.#stopped || this.#known.get(member.siloId) === member.startedAt) return;
    this.#known.set(member.siloId, member.startedAt);
    this.#emit({ kind: "joined", member });
  }

  #gone(kind: "left" | "died", siloId: string): void {
    if (this.#stopped || !this.#known.delete(siloId)) return;
    this.#emit({ kind, siloId });
  }

  #emit(change: MembershipChange): void {
    try {
      this.#listener(change);
    } catch (error) {
      this.#source.listenerFailed(error);
    }
  }
}

interface SiloJson {
  readonly siloId: string;
  readonly host: string;
  readonly port: number;
  readonly startedAt: number;
}
