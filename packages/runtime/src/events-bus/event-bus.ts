import {
  actorTypeOfStream,
  type EventStore,
  InvalidArgumentError,
  matchTokens,
  messageOf,
  type RecordedEvent,
  SubjectPattern,
  SubscriberDroppedError,
  type Subscription,
  subjectOf,
} from "@granary/core";
import type { Logger } from "pino";
import { SYSTEM_TYPE_PREFIX } from "../projections/system-calls.js";

/** A committed event as the bus delivers it. */
export interface BusEvent extends RecordedEvent {
  /** `<namespace>.<ActorType>.<EventType>` */
  readonly subject: string;
  readonly namespace: string;
  readonly actorType: string;
  readonly actorId: string;
}

export interface BusSubscribeOptions {
  /** Only events of this actor id. */
  readonly actorId?: string;
  /**
   * Required for a pattern whose namespace token is a wildcard (`*.Cart.>`, `>`): an explicit
   * opt-in to see more than one tenant. @default false
   */
  readonly crossNamespace?: boolean;
  /** Events buffered for a slow handler before the subscription is dropped. @default 10_000 */
  readonly bufferLimit?: number;
  /** Called once if the subscription is dropped for falling behind. @default log a warning */
  readonly onDropped?: (error: SubscriberDroppedError) => void;
}

export interface BusSubscription {
  readonly pattern: string;
  /** Resolves once the subscription receives every event committed from now on. */
  readonly ready: Promise<void>;
  /** Set when the subscription was dropped (too slow) or closed. */
  readonly closed: boolean;
  close(): Promise<void>;
}

export const DEFAULT_BUS_BUFFER_LIMIT = 10_000;

interface Subscriber {
  readonly pattern: SubjectPattern;
  readonly actorId: string | undefined;
  readonly handler: (event: BusEvent) => void | Promise<void>;
  readonly limit: number;
  readonly onDropped: ((error: SubscriberDroppedError) => void) | undefined;
  readonly queue: BusEvent[];
  draining: boolean;
  closed: boolean;
}

/**
 * Live, at-most-once notification of committed events by subject pattern (NATS-style `*` and
 * `>`). The bus follows the store's global feed from its head (one follower per silo, started with
 * the first subscriber), so it sees commits of every silo sharing the store and never touches the
 * commit path: a slow handler only fills its own queue, and is dropped at `bufferLimit`.
 * Durable consumers are projections.
 */
export class EventBus {
  readonly #events: EventStore;
  readonly #head: () => Promise<number>;
  readonly #namespace: string;
  readonly #logger: Logger;
  readonly #subscribers = new Set<Subscriber>();
  #follower: { readonly subscription: Promise<Subscription | undefined>; readonly ready: Promise<void> } | undefined;
  #closed = false;

  constructor(events: EventStore, head: () => Promise<number>, namespace: string, logger: Logger) {
    this.#events = events;
    this.#head = head;
    this.#namespace = namespace;
    this.#logger = logger;
  }

  /** The namespace whose commits this silo sees (its store's). */
  get namespace(): string {
    return this.#namespace;
  }

  /**
   * Calls `handler` for each event committed from now on whose subject matches `pattern`.
   * @throws InvalidArgumentError for a bad pattern, or one spanning namespaces without `crossNamespace`
   * @example
   * const sub = silo.events.subscribe("default.Cart.*", (e) => ws.send(JSON.stringify(e)), { actorId: "cart-1" });
   * await sub.close();
   */
  subscribe(
    pattern: string,
    handler: (event: BusEvent) => void | Promise<void>,
    options: BusSubscribeOptions = {},
  ): BusSubscription {
    if (this.#closed) throw new InvalidArgumentError("the event bus is closed (the silo stopped)");
    const parsed = new SubjectPattern(pattern);
    if (parsed.spansNamespaces && !options.crossNamespace) {
      throw new InvalidArgumentError(
        `subject pattern "${pattern}" matches every namespace; name one ("${this.#namespace}.${parsed.tokens.slice(1).join(".") || ">"}") or pass { crossNamespace: true }`,
        { pattern },
      );
    }
    if (parsed.namespace !== undefined && parsed.namespace !== this.#namespace) {
      throw new InvalidArgumentError(
        `subject pattern "${pattern}" names namespace "${parsed.namespace}", but this silo's store holds namespace "${this.#namespace}"; subscribe on a silo of that namespace`,
        { pattern },
      );
    }
    if (typeof handler !== "function") throw new InvalidArgumentError("subscribe needs a handler function");
    const limit = options.bufferLimit ?? DEFAULT_BUS_BUFFER_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError(`bufferLimit must be an integer >= 1, got ${limit}`);
    }
    const subscriber: Subscriber = {
      pattern: parsed,
      actorId: options.actorId,
      handler,
      limit,
      onDropped: options.onDropped,
      queue: [],
      draining: false,
      closed: false,
    };
    this.#subscribers.add(subscriber);
    const ready = this.#follow();
    return {
      pattern,
      ready,
      get closed() {
        return subscriber.closed;
      },
      close: async () => this.#remove(subscriber),
    };
  }

  /** Stops the follower and every subscription. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const subscriber of this.#subscribers) subscriber.closed = true;
    this.#subscribers.clear();
    await this.#stopFollower();
  }

  #follow(): Promise<void> {
    if (!this.#follower) {
      let markReady: () => void = () => {};
      const ready = new Promise<void>((resolve) => {
        markReady = resolve;
      });
      const subscription = this.#head().then(
        (head) => {
          if (this.#subscribers.size === 0 || this.#closed) {
            markReady();
            return undefined;
          }
          const subscription = this.#events.subscribe({
            fromPosition: head,
            onEvent: (event) => this.#publish(event),
            onError: (error) => {
              this.#logger.error({ err: messageOf(error) }, "event bus lost the feed; restarting from the head");
              this.#follower = undefined;
              if (this.#subscribers.size > 0 && !this.#closed) void this.#follow();
            },
          });
          markReady();
          return subscription;
        },
        (error: unknown) => {
          this.#logger.error({ err: messageOf(error) }, "event bus could not read the feed head");
          this.#follower = undefined;
          markReady();
          return undefined;
        },
      );
      this.#follower = { subscription, ready };
    }
    return this.#follower.ready;
  }

  async #stopFollower(): Promise<void> {
    const follower = this.#follower;
    this.#follower = undefined;
    const subscription = await follower?.subscription;
    await subscription?.close();
  }

  async #remove(subscriber: Subscriber): Promise<void> {
    subscriber.closed = true;
    subscriber.queue.length = 0;
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size === 0) await this.#stopFollower();
  }

  #publish(event: RecordedEvent): void {
    if (this.#subscribers.size === 0) return;
    const actorType = actorTypeOfStream(event.stream);
    if (actorType.startsWith(SYSTEM_TYPE_PREFIX)) return;
    const actorId = event.stream.slice(actorType.length + 1);
    const subject = subjectOf(this.#namespace, actorType, event.type);
    const tokens = subject.split(".");
    let delivered: BusEvent | undefined;
    for (const subscriber of this.#subscribers) {
      if (subscriber.actorId !== undefined && subscriber.actorId !== actorId) continue;
      if (!matchTokens(subscriber.pattern.tokens, tokens)) continue;
      delivered ??= { ...event, subject, namespace: this.#namespace, actorType, actorId };
      if (subscriber.queue.length >= subscriber.limit) {
        this.#drop(subscriber);
        continue;
      }
      subscriber.queue.push(delivered);
      if (!subscriber.draining) void this.#drain(subscriber);
    }
  }

  #drop(subscriber: Subscriber): void {
    const error = new SubscriberDroppedError(subscriber.pattern.pattern, subscriber.limit);
    void this.#remove(subscriber);
    if (subscriber.onDropped) subscriber.onDropped(error);
    else this.#logger.warn({ pattern: subscriber.pattern.pattern, limit: subscriber.limit }, error.message);
  }

  async #drain(subscriber: Subscriber): Promise<void> {
    subscriber.draining = true;
    while (subscriber.queue.length > 0 && !subscriber.closed) {
      const event = subscriber.queue.shift() as BusEvent;
      try {
        await subscriber.handler(event);
      } catch (error) {
        this.#logger.warn({ pattern: subscriber.pattern.pattern, err: messageOf(error) }, "event bus handler threw");
      }
    }
    subscriber.draining = false;
  }
}
