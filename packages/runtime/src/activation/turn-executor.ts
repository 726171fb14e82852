import { type Actor, GranaryError, isGranaryError, UnknownMethodError } from "@granary/core";
import { context } from "@opentelemetry/api";
import type { CallRequest } from "../calls/call-context.js";
import { REMINDER_METHOD, reminderHandler } from "../reminders/reminder-call.js";
import { turnContext } from "../telemetry/call-tracing.js";
import type { ActorTypeInfo } from "./actor-type-info.js";

/** Runs one call as a turn on an actor instance (may throw synchronously: the caller handles both). */
export interface TurnExecutor {
  /**
   * `reentrant`: the call belongs to a chain already inside the actor. An executor that returns
   * true from `defersStart` reports when such a call's turn really starts (`turnStarted`). With
   * `body` (a timer tick), the turn runs it instead of the request's method.
   */
  execute(request: CallRequest, reentrant: boolean, body?: () => unknown): Promise<unknown>;
  readonly defersStart: boolean;
}

/**
 * Runs actor code with the call's span active (when tracing), so user spans nest below it. A
 * method that is not async (reachable only by bypassing the types) still yields a promise.
 */
export function runInTurn(request: CallRequest, body: () => unknown): Promise<unknown> {
  const traced = request.context.traceparent === undefined ? undefined : turnContext(request);
  const value = traced ? context.with(traced, body) : body();
  return value instanceof Promise ? value : Promise.resolve(value);
}

/** {@link runInTurn} for a method call, without a closure around it (the plain actor's hot path). */
export function callInTurn(
  request: CallRequest,
  method: (...args: unknown[]) => unknown,
  instance: Actor,
  args: unknown[],
): Promise<unknown> {
  const traced = request.context.traceparent === undefined ? undefined : turnContext(request);
  // Without a `thisArg`: the context manager would bind the method to it, one more function per call.
  const value = traced
    ? context.with(traced, applyMethod, undefined, method, instance, args)
    : method.apply(instance, args);
  return value instanceof Promise ? value : Promise.resolve(value);
}

function applyMethod(method: (...args: unknown[]) => unknown, instance: Actor, args: unknown[]): unknown {
  return method.apply(instance, args);
}

export function resolveMethod(
  info: ActorTypeInfo,
  instance: Actor,
  method: string,
): (...args: unknown[]) => Promise<unknown> {
  if (method === REMINDER_METHOD) return reminderHandler(instance, info.type);
  if (!info.methods.has(method)) throw new UnknownMethodError(info.type, method);
  return (instance as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method] as (
    ...args: unknown[]
  ) => Promise<unknown>;
}

/**
 * A plain actor's turn for a call without an idempotency key: just the method, inside the call's
 * context. The activation calls this itself (the executor holds nothing such a call needs).
 */
export function callPlainMethod(info: ActorTypeInfo, instance: Actor, request: CallRequest): Promise<unknown> {
  return callInTurn(request, resolveMethod(info, instance, request.method), instance, request.args as unknown[]);
}

/** Turns of a plain (volatile) actor: just the method call, inside the call's context. */
export class PlainTurnExecutor implements TurnExecutor {
  get defersStart(): boolean {
    return false;
  }
  constructor(
    readonly info: ActorTypeInfo,
    readonly instance: Actor,
  ) {}

  /** Outcomes of recent keyed calls: volatile like the actor's state, so a resend runs once per activation. */
  #recent: RecentCalls | undefined;

  execute(request: CallRequest, _reentrant: boolean, body?: () => unknown): Promise<unknown> {
    if (body) return runInTurn(request, body);
    const key = request.idempotencyKey;
    if (key === undefined) return callPlainMethod(this.info, this.instance, request);
    const method = resolveMethod(this.info, this.instance, request.method);
    this.#recent ??= new RecentCalls();
    const first = this.#recent.get(key);
    if (first) return first;
    // The activation passes errors through asTurnError when it settles the call.
    const running = callInTurn(request, method, this.instance, request.args as unknown[]);
    this.#recent.set(key, running);
    return running;
  }
}

/** The last 1,000 keyed calls of a plain actor and their (possibly still running) outcomes. */
class RecentCalls {
  readonly #calls = new Map<string, Promise<unknown>>();

  get(key: string): Promise<unknown> | undefined {
    return this.#calls.get(key);
  }

  set(key: string, outcome: Promise<unknown>): void {
    // A rejected outcome is observed by the caller; this copy must not count as unhandled.
    outcome.catch(() => {});
    this.#calls.set(key, outcome);
    if (this.#calls.size > 1_000) this.#calls.delete(this.#calls.keys().next().value as string);
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
