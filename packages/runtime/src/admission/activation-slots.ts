import { FifoQueue } from "../internal/fifo-queue.js";

interface Waiter {
  readonly since: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A counting semaphore for work that loads something (activations registering and replaying,
 * directory look-ups): at most `limit` at once; the others wait in arrival order. A waiter that
 * waited longer than `maxQueueDelayMs` when its turn comes is refused with `shed()` instead: a
 * standing queue means the silo takes in more than it serves, and a call refused before anything
 * ran is better than one that times out with an unknown outcome. The fast path (a slot is free)
 * allocates nothing.
 */
export class ActivationSlots {
  #free: number;
  readonly #waiting = new FifoQueue<Waiter>();

  constructor(
    readonly limit: number,
    readonly maxQueueDelayMs: number = Number.POSITIVE_INFINITY,
    readonly shed: () => Error = () => new Error("waited too long for a slot"),
    /** Monotonic milliseconds, for how long a waiter waited (a test passes its own). */
    readonly now: () => number = () => performance.now(),
  ) {
    this.#free = limit;
  }

  /** Waiting for a slot. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Holding a slot. */
  get busy(): number {
    return this.limit - this.#free;
  }

  /**
   * Takes a slot: undefined when one was free, else a promise that resolves once it is this
   * caller's, or rejects with `shed()` when it waited too long (then it holds no slot).
   */
  acquire(): Promise<void> | undefined {
    if (this.#free > 0) {
      this.#free--;
      return undefined;
    }
    return new Promise((resolve, reject) => this.#waiting.push({ since: this.now(), resolve, reject }));
  }

  /** Gives a slot back: to the longest waiter that has not waited too long, if any. Once per slot held. */
  release(): void {
    const now = this.now();
    for (let next = this.#waiting.shift(); next !== undefined; next = this.#waiting.shift()) {
      if (now - next.since > this.maxQueueDelayMs) {
        next.reject(this.shed());
        continue;
      }
      next.resolve();
      return;
    }
    this.#free++;
  }
}
