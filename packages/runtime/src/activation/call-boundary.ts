import { assertWireData } from "@granary/core";

/**
 * The error a call gets when its result cannot cross the wire unchanged (a Map, a class instance,
 * a bigint), or undefined. Checked for local calls too, so a method behaves the same wherever its
 * caller is; the turn's events are already committed, as they would be before a remote reply fails.
 */
export function wireDataRefusal(result: unknown, actorType: string, method: string): unknown {
  const kind = typeof result;
  if (kind === "number" || kind === "boolean" || kind === "undefined" || result === null) return undefined;
  try {
    assertWireData(result, `the result of ${actorType}.${method}`);
    return undefined;
  } catch (error) {
    return error;
  }
}

// V8's messages for writes to frozen objects and arrays.
const FROZEN_WRITE = /^Cannot (assign to read only property|add property|delete property|define property)/;

/**
 * Actor state is deep-frozen while `freezeState` is on, so a mutation throws V8's bare "Cannot
 * assign to read only property". This says why and what to do instead, keeping the original as
 * `cause` (it may also be another frozen object, so the hint says "if").
 */
export function explainFrozenState(error: unknown): unknown {
  if (!(error instanceof TypeError) || !FROZEN_WRITE.test(error.message)) return error;
  const explained = new TypeError(
    `${error.message}. If this is the actor's state: state is frozen because it is the immutable result of folding events with apply() (freezeState, on unless NODE_ENV=production). Change it by raising an event in a command method (this.raise(...)) and returning a new object from apply (e.g. return { ...state, balance: state.balance + event.amount }); never assign to this.state or mutate the state apply receives`,
    { cause: error },
  );
  if (error.stack) explained.stack = `TypeError: ${explained.message}\n${error.stack.split("\n").slice(1).join("\n")}`;
  return explained;
}
