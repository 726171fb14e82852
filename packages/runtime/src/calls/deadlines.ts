import type { Clock, TimerHandle } from "@granary/core";

/** Something with a deadline: typically the call record itself, so tracking allocates nothing. */
export interface Expirable {
  readonly deadline: number;
  expire(): void;
}

/**
 * Call timeouts without a timer per call: calls are tracked in a set swept every `resolutionMs`.
 * A call times out between its deadline and one resolution later; that slack is the price of not
 * arming and clearing a timer on the hot path.
 */
export class DeadlineTracker {
  readonly #tracked = new Set<Expirable>();
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
    this.#tracked.add(entry);
    if (!this.#timer) this.#schedule();
  }

  untrack(entry: Expirable): void {
    this.#tracked.delete(entry);
  }

  get size(): number {
    return this.#tracked.size;
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
    for (const entry of this.#tracked) {
      if (entry.deadline <= now) {
        this.#tracked.delete(entry);
        entry.expire();
      }
    }
    if (this.#tracked.size > 0) this.#schedule();
  }
}
