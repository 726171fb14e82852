import {
  ConnectionError,
  type DocumentOf,
  type DocumentProjectionClass,
  InvalidArgumentError,
  messageOf,
  ProjectionKind,
  projectionInfo,
  SubjectPattern,
  SubscriberDroppedError,
} from "@granary/core";
import type { Logger } from "pino";
import { type CallRequest, callContext, newCallId } from "../calls/call-context.js";
import type { BusEvent, BusSubscribeOptions, BusSubscription } from "../events-bus/event-bus.js";
import type { OpenRequest } from "../events-bus/gateway-subscriptions.js";
import type { ListOptions, ProjectionQuery, QueryOptions } from "../projections/projection-queries.js";
import { EVENTS_ACTOR_TYPE, QUERY_ACTOR_TYPE } from "../projections/system-calls.js";

/** What the read side needs from the client: send a request to some gateway, or to a given one. */
export interface GatewayInvoker {
  readonly defaultTimeoutMs: number;
  invoke(request: CallRequest): Promise<unknown>;
  /** Sends to `gateway`, or picks one when undefined; resolves with the answer and the gateway used. */
  invokeAt(gateway: string | undefined, request: CallRequest): Promise<{ value: unknown; gateway: string }>;
  readonly closed: boolean;
}

/** How long a client's poll waits at the gateway for events. */
const POLL_WAIT_MS = 20_000;

export function systemRequest(
  actorType: string,
  actorId: string,
  method: string,
  args: unknown[],
  timeoutMs: number,
): CallRequest {
  const callId = newCallId();
  return {
    actorType,
    actorId,
    method,
    args,
    context: callContext(callId, [callId], callId, undefined, undefined),
    timeoutMs,
  };
}

/** `client.query(Cls)`: the same typed queries as `silo.query`, answered by a gateway silo. */
export function clientQuery<C extends DocumentProjectionClass>(
  invoker: GatewayInvoker,
  cls: C,
): ProjectionQuery<DocumentOf<C>> {
  const info = projectionInfo(cls);
  if (info.kind !== ProjectionKind.Document) {
    throw new InvalidArgumentError(`${info.name} is a handler projection: only document projections have queries`);
  }
  const send = (method: string, args: unknown[], options: QueryOptions | undefined) =>
    invoker.invoke(
      systemRequest(
        QUERY_ACTOR_TYPE,
        info.name,
        method,
        [info.version, ...args],
        options?.timeoutMs ?? invoker.defaultTimeoutMs,
      ),
    );
  return {
    get: (key, options) => send("get", [key, plain(options)], options) as Promise<DocumentOf<C> | undefined>,
    list: (options: ListOptions<DocumentOf<C>> = {}) => {
      if (options.where) {
        throw new InvalidArgumentError(
          "list({ where }) runs on the silo and cannot cross the wire; filter the items here or use `prefix`",
        );
      }
      return send("list", [plain(options)], options) as ReturnType<ProjectionQuery<DocumentOf<C>>["list"]>;
    },
    count: (options) => send("count", [plain(options)], options) as Promise<number>,
  };
}

function plain(options: object | undefined): object {
  if (!options) return {};
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined && typeof v !== "function"));
}

/**
 * `client.events.subscribe(...)`: a subscription held by one gateway silo, long-polled. When that
 * gateway goes away the client opens a new subscription on another (events in between are lost:
 * the bus is at most once).
 */
export function clientSubscribe(
  invoker: GatewayInvoker,
  logger: Logger,
  pattern: string,
  handler: (event: BusEvent) => void | Promise<void>,
  options: BusSubscribeOptions = {},
): BusSubscription {
  const parsed = new SubjectPattern(pattern);
  if (parsed.spansNamespaces && !options.crossNamespace) {
    throw new InvalidArgumentError(
      `subject pattern "${pattern}" matches every namespace; name one or pass { crossNamespace: true }`,
      { pattern },
    );
  }
  const request: OpenRequest = {
    pattern,
    ...(options.actorId === undefined ? {} : { actorId: options.actorId }),
    ...(options.crossNamespace === undefined ? {} : { crossNamespace: options.crossNamespace }),
    ...(options.bufferLimit === undefined ? {} : { bufferLimit: options.bufferLimit }),
  };
  let closed = false;
  let gateway: string | undefined;
  let id: string | undefined;
  const open = async (): Promise<void> => {
    const opened = await invoker.invokeAt(
      undefined,
      systemRequest(EVENTS_ACTOR_TYPE, "-", "open", [request], invoker.defaultTimeoutMs),
    );
    gateway = opened.gateway;
    id = opened.value as string;
  };
  const ready = open();
  const loop = async (): Promise<void> => {
    let failures = 0;
    await ready.catch(() => {});
    while (!closed && !invoker.closed) {
      try {
        if (id === undefined) await open();
        const { value } = await invoker.invokeAt(
          gateway,
          systemRequest(EVENTS_ACTOR_TYPE, "-", "poll", [id, POLL_WAIT_MS], POLL_WAIT_MS + 10_000),
        );
        failures = 0;
        const { events, dropped } = value as { events: BusEvent[]; dropped?: string };
        for (const event of events) {
          if (closed) return;
          try {
            await handler(event);
          } catch (error) {
            logger.warn({ pattern, err: messageOf(error) }, "event bus handler threw");
          }
        }
        if (dropped !== undefined) {
          if (dropped.includes("unknown")) {
            id = undefined; // the gateway forgot it (restarted): open again
          } else {
            closed = true;
            const error = new SubscriberDroppedError(pattern, options.bufferLimit ?? 0);
            if (options.onDropped) options.onDropped(error);
            else logger.warn({ pattern }, dropped);
          }
        }
      } catch (error) {
        if (closed || invoker.closed) return;
        failures++;
        logger.debug({ pattern, gateway, err: messageOf(error) }, "event subscription lost its gateway; reopening");
        id = undefined;
        gateway = undefined;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** failures, 2_000)));
      }
    }
  };
  const running = loop();
  return {
    pattern,
    ready: ready.catch((error: unknown) => {
      throw error instanceof Error ? error : new ConnectionError(messageOf(error));
    }),
    get closed() {
      return closed;
    },
    async close() {
      closed = true;
      const at = gateway;
      const subscription = id;
      if (at !== undefined && subscription !== undefined && !invoker.closed) {
        await invoker
          .invokeAt(at, systemRequest(EVENTS_ACTOR_TYPE, "-", "close", [subscription], invoker.defaultTimeoutMs))
          .catch(() => {});
      }
      await running;
    },
  };
}
