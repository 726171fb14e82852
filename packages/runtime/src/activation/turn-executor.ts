import { type Actor, GranaryError, isGranaryError, UnknownMethodError } from "@granary/core";
import { context } from "@opentelemetry/api";
import { type CallRequest, currentCall } from "../calls/call-context.js";
import { turnContext } from "../telemetry/call-tracing.js";
import type { ActorTypeInfo } from "./actor-type-info.js";

/** Runs one call as a turn on an actor instance. */
export interface TurnExecutor {
  execute(request: CallRequest): Promise<unknown>;
}

/** Runs actor code with the call visible to it (for onward calls) and the call's span active. */
export function runInTurn<T>(request: CallRequest, body: () => T): T {
  const traced = turnContext(request);
  const run = (): T => currentCall.run(request.context, body);
  return traced ? context.with(traced, run) : run();
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
    try {
      return await runInTurn(request, () => method.apply(this.instance, request.args as unknown[]));
    } catch (error) {
      throw asTurnError(error);
    }
  }
}

/**
 * A retryable error escaping a turn came from a call the turn made, and the turn itself did run
 * (other calls it made may have had effects): the caller must not retry it blindly, so it leaves
 * the turn as non-retryable, keeping its name, code, message and data.
 */
export function asTurnError(error: unknown): unknown {
  if (!isGranaryError(error) || !error.retryable) return error;
  const copy = new GranaryError(error.code, error.message, { retryable: false, data: error.data, cause: error });
  copy.name = error.name;
  return copy;
}
