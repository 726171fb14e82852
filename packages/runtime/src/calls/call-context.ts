import { AsyncLocalStorage } from "node:async_hooks";
import { monotonicFactory } from "ulid";
import { activeTraceparent } from "../telemetry/call-tracing.js";

/** What travels with every call: identity, causality and the chain used for reentrancy. */
export interface CallContext {
  readonly callId: string;
  /** Call ids from the root of the chain down to (and including) this call. */
  readonly chain: readonly string[];
  readonly correlationId: string;
  readonly userId?: string;
  /** W3C traceparent of the caller's span, when tracing is on. */
  readonly traceparent?: string;
}

/** One actor method invocation, wherever it comes from (local proxy, remote client, another silo). */
export interface CallRequest {
  readonly actorType: string;
  readonly actorId: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly context: CallContext;
  readonly timeoutMs: number;
}

/** The call a turn is executing, visible to code running inside it (and to refs it creates). */
export const currentCall = new AsyncLocalStorage<CallContext>();

export const newId: () => string = monotonicFactory();

/** Context of a call made from `parent` (or a fresh chain when called from outside any actor). */
export function childContext(
  parent: CallContext | undefined,
  options: { readonly userId?: string | undefined; readonly correlationId?: string | undefined },
): CallContext {
  const callId = newId();
  const userId = options.userId ?? parent?.userId;
  const traceparent = parent ? parent.traceparent : activeTraceparent();
  return {
    callId,
    chain: parent ? [...parent.chain, callId] : [callId],
    correlationId: options.correlationId ?? parent?.correlationId ?? callId,
    ...(userId === undefined ? {} : { userId }),
    ...(traceparent === undefined ? {} : { traceparent }),
  };
}
