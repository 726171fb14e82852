import { randomBytes } from "node:crypto";
import type { JsonObject } from "@granary/core";
import type { Span } from "@opentelemetry/api";
import { activeTraceparent } from "../telemetry/traceparent.js";
import { newEventId } from "./event-ids.js";

/** What travels with every call: identity, causality and the chain used for reentrancy. */
export interface CallContext {
  readonly callId: string;
  /** Call ids from the root of the chain down to (and including) this call. */
  readonly chain: readonly string[];
  readonly correlationId: string;
  readonly userId?: string;
  /** W3C traceparent of the caller's span, when tracing is on. */
  readonly traceparent?: string;
  /** The caller's call option `metadata`, recorded in events as `callMetadata`; inherited down the chain. */
  readonly metadata?: JsonObject;
}

/** One actor method invocation, wherever it comes from (local proxy, remote client, another silo). */
export interface CallRequest {
  readonly actorType: string;
  readonly actorId: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly context: CallContext;
  readonly timeoutMs: number;
  /** The caller's idempotency key (see `CallOptions.idempotencyKey`); never inherited by calls it makes. */
  readonly idempotencyKey?: string | undefined;
  /**
   * @internal Set by a reference of this process (never sent on the wire): where the silo notes the
   * activation that served the reference's last call, so the next call skips the catalog look-up.
   */
  readonly route?: RouteSlot | undefined;
  /** @internal The span this silo started for the call (never sent on the wire): ended when it settles. */
  readonly span?: Span | undefined;
}

/**
 * A reference's memo of the activation that served it, read and written only by the catalog of
 * the silo the reference belongs to (`rememberedTarget` / `rememberTarget` in actor-proxy.ts). A
 * stale memo (the activation is gone) is noticed and replaced.
 */
export interface RouteSlot {
  readonly routeSlot: true;
}

/**
 * A request as the hot path builds it (references, the call span): an instance of a class rather
 * than an object literal, because V8 may pretenure a literal's allocation site (see callContext),
 * and a pretenured request would also drag its context, chain and strings out of the young
 * generation with it.
 */
export function callRequest(
  actorType: string,
  actorId: string,
  method: string,
  args: readonly unknown[],
  context: CallContext,
  timeoutMs: number,
  idempotencyKey: string | undefined,
  route: RouteSlot | undefined,
  span: Span | undefined,
): CallRequest {
  return new Request(actorType, actorId, method, args, context, timeoutMs, idempotencyKey, route, span);
}

class Request implements CallRequest {
  constructor(
    readonly actorType: string,
    readonly actorId: string,
    readonly method: string,
    readonly args: readonly unknown[],
    readonly context: CallContext,
    readonly timeoutMs: number,
    readonly idempotencyKey: string | undefined,
    readonly route: RouteSlot | undefined,
    readonly span: Span | undefined,
  ) {}
}

/** ULIDs: event ids, activation ids, silo ids (sortable by time, globally unique). */
export const newId: () => string = newEventId;

// Call ids only need to be unique across the cluster, not sortable: a random per-process prefix and
// a counter cost a fraction of a ULID on the hot path.
const callIdPrefix = randomBytes(9).toString("base64url");
let callCounter = 0;
export function newCallId(): string {
  return `${callIdPrefix}${(callCounter++).toString(36)}`;
}

/**
 * `callId` appended to `parent`'s chain. Built with `new Array(n)`, not an array literal (whose
 * allocation site V8 may pretenure, see callContext), nor Array.of or concat (generic builtins
 * that cost more than the rest of a local call).
 */
function chainOf(parent: readonly string[] | undefined, callId: string): string[] {
  const length = parent === undefined ? 0 : parent.length;
  const chain = new Array<string>(length + 1);
  for (let i = 0; i < length; i++) chain[i] = (parent as readonly string[])[i] as string;
  chain[length] = callId;
  return chain;
}

/** Context of a call made from `parent` (or a fresh chain when called from outside any actor). */
export function childContext(
  parent: CallContext | undefined,
  options: {
    readonly userId?: string | undefined;
    readonly correlationId?: string | undefined;
    readonly metadata?: JsonObject | undefined;
  },
): CallContext {
  const callId = newCallId();
  if (parent === undefined) {
    return withMetadata(
      callContext(
        callId,
        chainOf(undefined, callId),
        options.correlationId ?? callId,
        options.userId,
        activeTraceparent(),
      ),
      options.metadata,
    );
  }
  return withMetadata(
    callContext(
      callId,
      chainOf(parent.chain, callId),
      options.correlationId ?? parent.correlationId,
      options.userId ?? parent.userId,
      parent.traceparent,
    ),
    options.metadata ?? parent.metadata,
  );
}

/** The context with the caller's metadata; the same object when there is none (the common case). */
export function withMetadata(context: CallContext, metadata: JsonObject | undefined): CallContext {
  return metadata === undefined ? context : { ...context, metadata };
}

/**
 * Builds a context without spreading objects: the optional fields are present only when set (so a
 * context compares equal to one written by hand), and contexts keep few hidden classes.
 *
 * Built from an empty literal, property by property: an object literal with fields (and an array
 * literal) has an allocation site, and V8 pretenures a site whose objects outlive young-generation
 * collections, which contexts do during a burst of activations (thousands of calls wait for their
 * actors). From then on every call's context would be allocated in the old generation, dragging
 * what it points to there too, and left as garbage for full collections: under load that cost
 * more than the rest of the call path (10k actors x 1,000 callers: 300 B per call promoted, five
 * times the full collections, a quarter of the time).
 */
export function callContext(
  callId: string,
  chain: readonly string[],
  correlationId: string,
  userId: string | undefined,
  traceparent: string | undefined,
): CallContext {
  const context: { -readonly [K in keyof CallContext]: CallContext[K] } = {} as CallContext;
  context.callId = callId;
  context.chain = chain;
  context.correlationId = correlationId;
  if (userId !== undefined) context.userId = userId;
  if (traceparent !== undefined) context.traceparent = traceparent;
  return context;
}
