import type { Clock, TimerHandle } from "./clock.js";

interface PendingTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to: `advance(ms)` runs every timer that falls due, in order.
 * For tests of idle collection, timers, leases and retries without real waiting. `advance` runs the
 * callbacks synchronously; work they start on promises runs after it returns, so to let each timer's
 * work finish before the next one fires, step with `nextDue` (TestCluster's `advance` does).
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: PendingTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), callback };
    this.#timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle.id);
  }

  /** Moves time forward, firing due timers (including ones they schedule) in due order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.due;
      next.callback();
    }
    this.#now = target;
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * When the earliest pending timer falls due, or undefined when none is pending. Lets a test step
   * from timer to timer and let the work each one starts settle before the next fires.
   */
  get nextDue(): number | undefined {
    let next: number | undefined;
    for (const timer of this.#timers) if (next === undefined || timer.due < next) next = timer.due;
    return next;
  }
}
