import { assertActorIdentity, assertCallMetadata, InvalidArgumentError, type JsonObject } from "@granary/core";
import { type CallRequest, callContext, withMetadata } from "./call-context.js";
import { assertCallTimeout } from "./call-timeout.js";
import { checkIdempotencyKey } from "./idempotency.js";

/**
 * The wire form of a call between a client and a gateway silo, or forwarded between silos: a flat
 * msgpack array, no maps (no key strings on the wire, nothing to look up when decoding):
 *
 * ```
 * [CALL, hops, actorType, actorId, method, args, timeoutMs, callId,
 *  chain?, correlationId?, userId?, traceparent?, idempotencyKey?, metadata?]
 * ```
 *
 * - `hops`: silos the call already went through; bounds forwarding when caches disagree.
 * - `chain`: nil (or absent) when the chain is just `[callId]`, the call starts a chain.
 * - `correlationId`: nil (or absent) when it equals `callId`.
 * - `idempotencyKey`: the caller's key (see `CallOptions.idempotencyKey`), when it gave one.
 * - `metadata`: the caller's call option `metadata` (a JSON object), checked again on arrival.
 * - trailing optional fields are left out when unset; a nil in the middle means "unset".
 *
 * This file is the only place that builds or reads the shape.
 */
export type CallFrame = unknown[];

/** First element of a call frame: what kind of message (and version of its shape) follows. */
export const CALL = 1;

const HOPS = 1;
const FIXED_FIELDS = 8;

/** Encodes `req` (forwarded `hops` times so far) as a call frame. */
export function callMessage(req: CallRequest, hops: number): CallFrame {
  const { context } = req;
  const { callId, chain, correlationId, userId, traceparent, metadata } = context;
  const frame: CallFrame = [CALL, hops, req.actorType, req.actorId, req.method, req.args, req.timeoutMs, callId];
  const ownChain = chain.length === 1 && chain[0] === callId ? null : chain;
  const correlation = correlationId === callId ? null : correlationId;
  const key = req.idempotencyKey;
  if (metadata !== undefined)
    frame.push(ownChain, correlation, userId ?? null, traceparent ?? null, key ?? null, metadata);
  else if (key !== undefined) frame.push(ownChain, correlation, userId ?? null, traceparent ?? null, key);
  else if (traceparent !== undefined) frame.push(ownChain, correlation, userId ?? null, traceparent);
  else if (userId !== undefined) frame.push(ownChain, correlation, userId);
  else if (correlation !== null) frame.push(ownChain, correlation);
  else if (ownChain !== null) frame.push(ownChain);
  return frame;
}

/** The hop count of a frame that {@link parseCallRequest} accepted. */
export function hopsOf(frame: CallFrame): number {
  return frame[HOPS] as number;
}

/**
 * Validates what an (authenticated) peer sent before it reaches the catalog, and rebuilds the
 * request; read the hop count with {@link hopsOf}.
 * @throws InvalidArgumentError when `payload` is not a call frame, or its actor identity or timeout breaks
 *   the rules local calls follow
 */
export function parseCallRequest(payload: unknown): CallRequest {
  if (!Array.isArray(payload) || payload.length < FIXED_FIELDS || payload.length > FIXED_FIELDS + 6) {
    throw malformed();
  }
  const frame = payload as CallFrame;
  const actorType = frame[2];
  const actorId = frame[3];
  const method = frame[4];
  const args = frame[5];
  const timeoutMs = frame[6];
  const callId = frame[7];
  if (
    frame[0] !== CALL ||
    typeof frame[HOPS] !== "number" ||
    typeof actorType !== "string" ||
    typeof actorId !== "string" ||
    typeof method !== "string" ||
    !Array.isArray(args) ||
    typeof timeoutMs !== "number" ||
    typeof callId !== "string"
  ) {
    throw malformed();
  }
  // The same rules as a local call's: an id that is refused locally is refused from the wire.
  assertActorIdentity(actorType, actorId);
  assertCallTimeout(timeoutMs);
  const chain = optional(frame[8]);
  const correlationId = optional(frame[9]);
  const userId = optional(frame[10]);
  const traceparent = optional(frame[11]);
  const idempotencyKey = optional(frame[12]);
  const metadata = optional(frame[13]);
  if (metadata !== undefined) assertCallMetadata(metadata);
  if (
    (chain !== undefined && !isStringArray(chain)) ||
    (correlationId !== undefined && typeof correlationId !== "string") ||
    (userId !== undefined && typeof userId !== "string") ||
    (traceparent !== undefined && typeof traceparent !== "string")
  ) {
    throw malformed();
  }
  checkIdempotencyKey(idempotencyKey);
  const context = withMetadata(
    callContext(
      callId,
      (chain as string[] | undefined) ?? [callId],
      (correlationId as string | undefined) ?? callId,
      userId as string | undefined,
      traceparent as string | undefined,
    ),
    metadata as JsonObject | undefined,
  );
  // Two literals rather than `{ ...request, idempotencyKey }`: a property after a spread takes V8's
  // slow path on Node 20 (~0.5 µs), and every client call carries a key.
  if (idempotencyKey === undefined) return { actorType, actorId, method, args, context, timeoutMs };
  return { actorType, actorId, method, args, context, timeoutMs, idempotencyKey: idempotencyKey as string };
}

function optional(value: unknown): unknown {
  return value === null ? undefined : value;
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const item of value) if (typeof item !== "string") return false;
  return true;
}

function malformed(): InvalidArgumentError {
  return new InvalidArgumentError(
    "malformed call message: expected [CALL, hops, actorType, actorId, method, args, timeoutMs, callId, ...]",
  );
}
