import { InvalidArgumentError, SubscriberDroppedError } from "@granary/core";
import { newId } from "../calls/call-context.js";
import { type BusEvent, type BusSubscription, DEFAULT_BUS_BUFFER_LIMIT, type EventBus } from "./event-bus.js";

/** Most events one poll returns. */
const MAX_POLL_EVENTS = 1_000;
/** A client subscription not polled for this long is closed (the client went away). */
const IDLE_EXPIRY_MS = 60_000;
/** Longest a poll waits for events. */
export const MAX_POLL_WAIT_MS = 25_000;

interface Remote {
  readonly subscription: BusSubscription;
  readonly buffer: BusEvent[];
  waiter: (() => void) | undefined;
  lastPoll: number;
  dropped: string | undefined;
}

export interface OpenRequest {
  readonly pattern: string;
  readonly actorId?: string;
  readonly crossNamespace?: boolean;
  readonly bufferLimit?: number;
}

/**
 * Bus subscriptions of clients, held by the gateway silo a client talks to: the client opens one,
 * then long-polls it (`poll` answers as soon as events are buffered, or empty after the wait).
 * Buffered events are bounded by the subscription's `bufferLimit`; a client that falls behind is
 * dropped, and learns it on its next poll. At most once: a gateway that dies loses its buffers.
 */
export class GatewaySubscriptions {
  readonly #bus: EventBus;
  readonly #remotes = new Map<string, Remote>();
  readonly #sweeper: ReturnType<typeof setInterval>;

  constructor(bus: EventBus) {
    this.#bus = bus;
    this.#sweeper = setInterval(() => this.#sweep(), IDLE_EXPIRY_MS / 4);
    this.#sweeper.unref();
  }

  async open(request: OpenRequest): Promise<string> {
    if (typeof request?.pattern !== "string") throw new InvalidArgumentError("open needs a pattern");
    const id = newId();
    const limit = request.bufferLimit ?? DEFAULT_BUS_BUFFER_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError(`bufferLimit must be an integer >= 1, got ${limit}`);
    }
    const remote: Remote = {
      buffer: [],
      waiter: undefined,
      lastPoll: Date.now(),
      dropped: undefined,
      subscription: this.#bus.subscribe(
        request.pattern,
        (event) => {
          if (remote.dropped) return;
          if (remote.buffer.length >= limit) {
            // The client polls too slowly: drop it, as the bus drops a slow local handler.
            remote.dropped = new SubscriberDroppedError(request.pattern, limit).message;
            void remote.subscription.close();
          } else {
            remote.buffer.push(event);
          }
          remote.waiter?.();
        },
        {
          ...(request.actorId === undefined ? {} : { actorId: request.actorId }),
          ...(request.crossNamespace === undefined ? {} : { crossNamespace: request.crossNamespace }),
          onDropped: (error) => {
            remote.dropped = error.message;
            remote.waiter?.();
          },
        },
      ),
    };
    // The handler above never waits, so the bus's own queue stays empty: the poll buffer is the bound.
    this.#remotes.set(id, remote);
    await remote.subscription.ready;
    return id;
  }

  /** Events buffered for `id`, waiting up to `waitMs` for the first. */
  async poll(id: string, waitMs: number): Promise<{ events: BusEvent[]; dropped?: string }> {
    const remote = this.#remotes.get(id);
    if (!remote)
      return { events: [], dropped: "the subscription is unknown on this gateway (expired or the gateway restarted)" };
    remote.lastPoll = Date.now();
    if (remote.buffer.length === 0 && !remote.dropped) {
      const wait = Math.max(0, Math.min(MAX_POLL_WAIT_MS, Number(waitMs) || 0));
      const waiting = remote;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          waiting.waiter = undefined;
          resolve();
        };
        const timer = setTimeout(done, wait);
        waiting.waiter = done;
      });
    }
    remote.lastPoll = Date.now();
    const events = remote.buffer.splice(0, MAX_POLL_EVENTS);
    if (remote.dropped && remote.buffer.length === 0) {
      this.#remotes.delete(id);
      return { events, dropped: remote.dropped };
    }
    return { events };
  }

  async close(id: string): Promise<void> {
    const remote = this.#remotes.get(id);
    if (!remote) return;
    this.#remotes.delete(id);
    remote.waiter?.();
    await remote.subscription.close();
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#remotes.keys()].map((id) => this.close(id)));
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, remote] of this.#remotes) {
      if (now - remote.lastPoll > IDLE_EXPIRY_MS && !remote.waiter) void this.close(id);
    }
  }
}
