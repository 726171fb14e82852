import { InvalidArgumentError } from "@granary/core";

/**
 * The wire form of history and time-travel requests from a client to a gateway silo, which answers
 * them itself from the shared store (a purge is an actor call instead: it must reach the owner):
 *
 * ```
 * [HISTORY_REQUEST, op, actorType, actorId, input]
 * ```
 *
 * `op` names the operation and `input` holds its arguments as a plain object. Call frames start
 * with CALL (1); this kind of message with 2.
 */
export const HISTORY_REQUEST = 2;

export const HistoryOp = {
  History: "history",
  StateAt: "stateAt",
  AsOf: "asOf",
  Correlated: "correlated",
} as const;
export type HistoryOp = (typeof HistoryOp)[keyof typeof HistoryOp];

const OPS = new Set<string>(Object.values(HistoryOp));

export interface HistoryRequest {
  readonly op: HistoryOp;
  readonly actorType: string;
  readonly actorId: string;
  readonly input: Record<string, unknown>;
}

export function historyMessage(
  op: HistoryOp,
  actorType: string,
  actorId: string,
  input: Record<string, unknown>,
): unknown[] {
  return [HISTORY_REQUEST, op, actorType, actorId, input];
}

export function isHistoryMessage(payload: unknown): boolean {
  return Array.isArray(payload) && payload[0] === HISTORY_REQUEST;
}

/** @throws InvalidArgumentError when `payload` is not a history request */
export function parseHistoryMessage(payload: unknown): HistoryRequest {
  const frame = payload as unknown[];
  const [, op, actorType, actorId, input] = frame;
  if (
    !Array.isArray(payload) ||
    frame.length !== 5 ||
    typeof op !== "string" ||
    !OPS.has(op) ||
    typeof actorType !== "string" ||
    typeof actorId !== "string" ||
    typeof input !== "object" ||
    input === null ||
    Array.isArray(input)
  ) {
    throw new InvalidArgumentError(
      "malformed history request: expected [HISTORY_REQUEST, op, actorType, actorId, { ...input }]",
    );
  }
  return { op: op as HistoryOp, actorType, actorId, input: input as Record<string, unknown> };
}
