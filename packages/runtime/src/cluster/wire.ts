import { InvalidArgumentError } from "@granary/core";
import type { CallRequest } from "../calls/call-context.js";

/** A call carried between a client and a gateway silo, or forwarded between silos. */
export interface CallMessage {
  readonly k: "call";
  readonly req: CallRequest;
  /** How many silos the call already went through; bounds forwarding when caches disagree. */
  readonly hops: number;
}

export function callMessage(req: CallRequest, hops: number): CallMessage {
  return { k: "call", req, hops };
}

/** Validates what an (authenticated) peer sent before it reaches the catalog. */
export function parseCallMessage(payload: unknown): CallMessage {
  const message = payload as Partial<CallMessage> | null;
  const req = message?.req as Partial<CallRequest> | undefined;
  const context = req?.context;
  if (
    message?.k !== "call" ||
    typeof message.hops !== "number" ||
    typeof req?.actorType !== "string" ||
    typeof req.actorId !== "string" ||
    typeof req.method !== "string" ||
    !Array.isArray(req.args) ||
    typeof req.timeoutMs !== "number" ||
    typeof context?.callId !== "string" ||
    !Array.isArray(context.chain) ||
    typeof context.correlationId !== "string"
  ) {
    throw new InvalidArgumentError("malformed call message: expected { k: 'call', req: CallRequest, hops }");
  }
  return message as CallMessage;
}
