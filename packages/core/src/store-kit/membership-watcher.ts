import type { Clock, TimerHandle } from "../ports/clock.js";
import type { MemberInfo, MembershipChange } from "../ports/membership.js";

/** What a {@link MembershipWatcher} reads: the member list, a change channel, a clock to poll on. */
export interface MembershipWatcherSource {
  liveMembers(): Promise<MemberInfo[]>;
  /** Subscribes to announced changes (pub/sub, an in-process emitter); returns the unlisten function. */
  listen(onChange: (change: MembershipChange) => void): () => void;
  readonly pollIntervalMs: number;
  readonly clock: Clock;
  /** A listener threw: reported, and the watch goes on. */
  listenerFailed(error: unknown): void;
}

/**
 * Turns announced changes plus periodic polling into one de-duplicated stream of changes for one
 * listener: what `Membership.watch` promises, for every adapter. The first poll reports every
 * current member as `joined`, so a watcher never misses a member that joined just before it
 * started. Polling also reports as `died` a member whose lease expired even if nobody has removed it
 * yet, and covers announcements lost (e.g. pub/sub messages during a reconnect).
 */
export class MembershipWatcher {
  readonly #source: MembershipWatcherSource;
  readonly #listener: (change: MembershipChange) => void;
  /** siloId → startedAt of the members this listener was told about. */
  readonly #known = new Map<string, number>();
  readonly #unlisten: () => void;
  #timer: TimerHandle | undefined;
  #announced = 0;
  #stopped = false;

  constructor(source: MembershipWatcherSource, listener: (change: MembershipChange) => void) {
    this.#source = source;
    this.#listener = listener;
    this.#unlisten = source.listen((change) => this.#onAnnounced(change));
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#source.clock.clearTimeout(this.#timer);
    this.#unlisten();
  }

  #onAnnounced(change: MembershipChange): void {
    this.#announced++;
    if (change.kind === "joined") this.#joined(change.member);
    else this.#gone(change.kind, change.siloId);
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    const announcedBefore = this.#announced;
    try {
      const live = await this.#source.liveMembers();
      // A change announced meanwhile is newer than this snapshot: let the next poll reconcile.
      if (!this.#stopped && this.#announced === announcedBefore) {
        const ids = new Set(live.map((m) => m.siloId));
        for (const siloId of [...this.#known.keys()]) if (!ids.has(siloId)) this.#gone("died", siloId);
        for (const member of live) this.#joined(member);
      }
    } catch {
      // The membership store is unreachable: keep what we know and try again at the next tick.
    }
    if (this.#stopped) return;
    this.#timer = this.#source.clock.setTimeout(() => void this.#poll(), this.#source.pollIntervalMs);
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

/** The watches of one Membership instance: `watch` starts one, `stopAll` ends them on close. */
export class MembershipWatchers {
  readonly #watchers = new Set<MembershipWatcher>();

  /** Starts a watch; returns the function that stops it. */
  watch(source: MembershipWatcherSource, listener: (change: MembershipChange) => void): () => void {
    const watcher = new MembershipWatcher(source, listener);
    this.#watchers.add(watcher);
    return () => {
      this.#watchers.delete(watcher);
      watcher.stop();
    };
  }

  stopAll(): void {
    for (const watcher of this.#watchers) watcher.stop();
    this.#watchers.clear();
  }
}
