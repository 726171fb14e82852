import { InvalidArgumentError } from "@granary/core";

/**
 * The wire form of an operator request (CLI, inspector) to one silo: `[ADMIN, op, args]`, answered
 * like a call. Distinct from call frames (`[CALL, ...]`, calls/call-wire.ts) by its first element.
 */
export const ADMIN = 100;

export type AdminFrame = [typeof ADMIN, string, Record<string, unknown>];

export function adminMessage(op: string, args: Record<string, unknown> = {}): AdminFrame {
  return [ADMIN, op, args];
}

export function isAdminFrame(payload: unknown): payload is unknown[] {
  return Array.isArray(payload) && payload[0] === ADMIN;
}

/** Validates what a peer sent as an operator request. */
export function parseAdminFrame(payload: unknown[]): { op: string; args: Record<string, unknown> } {
  const [, op, args] = payload;
  if (
    payload.length !== 3 ||
    typeof op !== "string" ||
    typeof args !== "object" ||
    args === null ||
    Array.isArray(args)
  ) {
    throw new InvalidArgumentError("malformed operator request: expected [ADMIN, op, { ...args }]");
  }
  return { op, args: args as Record<string, unknown> };
}
