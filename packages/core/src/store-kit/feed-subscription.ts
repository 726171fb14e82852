import type { RecordedEvent } from "../events/envelope.js";
import type { SubscribeOptions, Subscription } from "../ports/event-store.js";

export interface FeedSource {
  /** Events with position > fromPosition, in order, at most limit. */
  readAll(fromPosition: number, limit: number): Promise<RecordedEvent[]>;
  /**
   * Resolves when new events may be readable, or after `maxWaitMs` at the latest (a store without
   * notifications simply sleeps: polling). Must resolve promptly when `signal` aborts. With
   * `sinceGeneration` (from {@link changeGeneration}), resolves at once if a change happened since.
   */
  waitForChange(signal: AbortSignal, maxWaitMs: number, sinceGeneration?: number): Promise<void>;
  /**
   * Optional: a counter of changes (e.g. {@link ChangeSignal.generation}). The subscription reads it
   * before each catch-up read, so a commit landing between that read and the wait is not missed
   * (it would otherwise only be seen at the next poll).
   */
  changeGeneration?(): number;
}

const DEFAULT_BATCH = 500;
const MAX_IDLE_WAIT_MS = 1_000;

/**
 * Catch-up-then-live delivery of a store's global feed: read a batch after the last delivered
 * position, deliver it in order, and when caught up wait for a change signal. Correct for any store
 * whose `readAll` never returns an event past a position that a later-committing event could still
 * take (each store documents how it keeps that).
 */
export function startFeedSubscription(source: FeedSource, options: SubscribeOptions): Subscription {
  const abort = new AbortController();
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  let position = options.fromPosition;
  /** Events delivered since the subscriber last heard it was caught up. */
  let delivered = 0;

  const loop = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      const generation = source.changeGeneration?.();
      const batch = await source.readAll(position, batchSize);
      for (const event of batch) {
        if (abort.signal.aborted) return;
        await options.onEvent(event);
        position = event.position;
        delivered++;
      }
      if (batch.length < batchSize) {
        if (delivered > 0 && options.onCaughtUp && !abort.signal.aborted) {
          delivered = 0;
          await options.onCaughtUp();
        }
        await source.waitForChange(abort.signal, MAX_IDLE_WAIT_MS, generation);
      }
    }
  };
  const done = loop().catch((error: unknown) => {
    if (abort.signal.aborted) return;
    abort.abort();
    options.onError?.(error);
  });

  return {
    get position() {
      return position;
    },
    async close() {
      abort.abort();
      await done;
    },
  };
}

/**
 * Keeps `subscription` in `open` until it is closed, so a store can close its subscriptions when it
 * closes itself.
 */
export function trackSubscription(open: Set<Subscription>, subscription: Subscription): Subscription {
  const tracked: Subscription = {
    get position() {
      return subscription.position;
    },
    async close() {
      open.delete(tracked);
      await subscription.close();
    },
  };
  open.add(tracked);
  return tracked;
}

/** A wake-up signal stores can fire after each commit; waiters resolve on the next fire. */
export class ChangeSignal {
  #waiters = new Set<() => void>();
  #generation = 0;

  /** How many times the signal fired; pass it back to {@link wait} to not miss a fire in between. */
  get generation(): number {
    return this.#generation;
  }

  fire(): void {
    this.#generation++;
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next fire, after `maxWaitMs`, or when `signal` (if any) aborts. */
  wait(signal: AbortSignal | undefined, maxWaitMs: number, sinceGeneration?: number): Promise<void> {
    if (signal?.aborted || (sinceGeneration !== undefined && sinceGeneration !== this.#generation)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", finish);
        this.#waiters.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, maxWaitMs);
      signal?.addEventListener("abort", finish, { once: true });
      this.#waiters.add(finish);
    });
  }
}
