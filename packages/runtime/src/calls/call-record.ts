import { CallTimeoutError, messageOf } from "@granary/core";
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import type { PendingCall } from "../activation/mailbox.js";
import type { CallRequest } from "./call-context.js";
import type { DeadlineTracker, Expirable } from "./deadlines.js";

/**
 * One call on the silo that accepted it: the caller's promise, its deadline and its span, in one
 * object that is both what the mailbox answers and what the deadline tracker expires.
 */
export class CallRecord implements PendingCall, Expirable {
  readonly deadline: number;
  #settled = false;

  constructor(
    readonly request: CallRequest,
    readonly resolvePromise: (value: unknown) => void,
    readonly rejectPromise: (error: unknown) => void,
    readonly deadlines: DeadlineTracker,
    readonly span: Span | undefined,
    readonly onSettled: (record: CallRecord) => void,
  ) {
    this.deadline = deadlines.now() + request.timeoutMs;
    deadlines.track(this);
  }

  resolve(value: unknown): void {
    if (this.#settle(undefined)) this.resolvePromise(value);
  }

  reject(error: unknown): void {
    if (this.#settle(error)) this.rejectPromise(error);
  }

  expire(): void {
    const { actorType, actorId, method, timeoutMs } = this.request;
    this.reject(new CallTimeoutError(`${actorType}/${actorId}`, method, timeoutMs));
  }

  #settle(error: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.deadlines.untrack(this);
    if (this.span) {
      if (error !== undefined) {
        this.span.recordException(error as Error);
        this.span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
      }
      this.span.end();
    }
    this.onSettled(this);
    return true;
  }
}
