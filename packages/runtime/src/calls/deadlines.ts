import type { Clock, TimerHandle } from "@granary/core";

/** Something with a deadline: typically the call record itself, so tracking allocates nothing. */
export interface Expirable {
  readonly deadline: number;
  /** Index in the tracker's array while tracked, -1 otherwise (owned by the tracker; declare it as -1). */
  slot?: number;
  expire(): void;
}

/**
 * Call timeouts without a timer per call: calls are tracked in a set swept every `resolutionMs`.
 * A call times out between its deadline and one resolution later; that slack is the price of not
 * arming and clearing a timer on the hot path.
 */
export class DeadlineTracker {
  // An array with swap-remove by slot: tracking and untracking are O(1) without hashing.
  readonly #tracked: Expirable[] = [];
  readonly #clock: Clock;
  readonly #resolutionMs: number;
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, resolutionMs = 50) {
    this.#clock = clock;
    this.#resolutionMs = resolutionMs;
  }

  /** Current time on this tracker's clock, to compute deadlines. */
  now(): number {
    return this.#clock.now();
  }

  track(entry: Expirable): void {
    entry.slot = this.#tracked.length;
    this.#tracked.push(entry);
    if (!this.#timer) this.#schedule();
  }

  untrack(entry: Expirable): void {
    const slot = entry.slot ?? -1;
    if (slot < 0) return;
    const tracked = this.#tracked;
    const last = tracked.pop() as Expirable;
    if (last !== entry) {
      tracked[slot] = last;
      last.slot = slot;
    }
    entry.slot = -1;
  }

  get size(): number {
    return this.#tracked.length;
  }

  stop(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => this.#sweep(), this.#resolutionMs);
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    const expired: Expirable[] = [];
    for (const entry of this.#tracked) if (entry.deadline <= now) expired.push(entry);
    for (const entry of expired) {
      this.untrack(entry);
      entry.expire();
    }
    if (this.#tracked.length > 0) this.#schedule();
  }
}
