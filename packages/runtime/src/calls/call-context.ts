import { randomBytes } from "node:crypto";
import type { JsonObject } from "@granary/core";
import type { Span } from "@opentelemetry/api";
import { activeTraceparent } from "../telemetry/traceparent.js";
import { ulidFactory } from "./ulid.js";

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

/** ULIDs: event ids, activation ids, silo ids (sortable by time, globally unique). */
export const newId: () => string = ulidFactory();

// Call ids only need to be unique across the cluster, not sortable: a random per-process prefix and
// a counter cost a fraction of a ULID on the hot path.
const callIdPrefix = randomBytes(9).toString("base64url");
let callCounter = 0;
export function newCallId(): string {
  return `${callIdPrefix}${(callCounter++).toString(36)}`;
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
      callContext(callId, [callId], options.correlationId ?? callId, options.userId, activeTraceparent()),
      options.metadata,
    );
  }
  return withMetadata(
    callContext(
      callId,
      [...parent.chain, callId],
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
 */
export function callContext(
  callId: string,
  chain: readonly string[],
  correlationId: string,
  userId: string | undefined,
  traceparent: string | undefined,
): CallContext {
  if (userId === undefined) {
    return traceparent === undefined ? { callId, chain, correlationId } : { callId, chain, correlationId, traceparent };
  }
  return traceparent === undefined
    ? { callId, chain, correlationId, userId }
    : { callId, chain, correlationId, userId, traceparent };
}
