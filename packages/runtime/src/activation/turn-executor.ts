import { type Actor, UnknownMethodError } from "@granary/core";
import { type CallRequest, currentCall } from "../calls/call-context.js";
import type { ActorTypeInfo } from "./actor-type-info.js";

/** Runs one call as a turn on an actor instance. */
export interface TurnExecutor {
  execute(request: CallRequest): Promise<unknown>;
}

export function resolveMethod(
  info: ActorTypeInfo,
  instance: Actor,
  method: string,
): (...args: unknown[]) => Promise<unknown> {
  if (!info.methods.has(method)) throw new UnknownMethodError(info.type, method);
  return (instance as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method] as (
    ...args: unknown[]
  ) => Promise<unknown>;
}

/** Turns of a plain (volatile) actor: just the method call, inside the call's context. */
export class PlainTurnExecutor implements TurnExecutor {
  constructor(
    readonly info: ActorTypeInfo,
    readonly instance: Actor,
  ) {}

  async execute(request: CallRequest): Promise<unknown> {
    const method = resolveMethod(this.info, this.instance, request.method);
    return currentCall.run(request.context, () => method.apply(this.instance, request.args as unknown[]));
  }
}
