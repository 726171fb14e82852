import { CallTimeoutError, messageOf } from "@granary/core";
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import type { PendingCall } from "../activation/mailbox.js";
import type { CallRequest } from "./call-context.js";
import type { DeadlineTracker, Expirable } from "./deadlines.js";
import { capture, captured } from "./deferred.js";

/**
 * Where a call's outcome goes: a caller's promise, or a reply on a transport connection, which
 * carries `ownerHint` (where the call ran) back to the caller.
 */
export interface CallAnswer {
  resolve(value: unknown, ownerHint?: string): void;
  reject(error: unknown, ownerHint?: string): void;
}

/**
 * One call on the silo that accepted it: its deadline, its span and the way to answer its caller,
 * in one object that is both what the mailbox answers and what the deadline tracker expires.
 * Settles once: later outcomes (a turn finishing after the call expired) are ignored.
 */
export abstract class CallRecord implements PendingCall, Expirable {
  readonly deadline: number;
  slot = -1;
  /** Where the call ran ("host:port"), set by the router when a remote caller should learn it. */
  ownerHint: string | undefined = undefined;
  /** The call came from a client (not from another silo or from this process). */
  fromClient = false;
  /** Silos the call went through before this one: a reroute after a lost directory race keeps it. */
  hops = 0;
  #settled = false;

  constructor(
    readonly request: CallRequest,
    readonly deadlines: DeadlineTracker,
    readonly span: Span | undefined,
    readonly onSettled: (record: CallRecord) => void,
  ) {
    this.deadline = deadlines.now() + request.timeoutMs;
    deadlines.track(this);
  }

  resolve(value: unknown): void {
    if (this.#settle(undefined)) this.deliver(value);
  }

  reject(error: unknown): void {
    if (this.#settle(error)) this.fail(error);
  }

  expire(): void {
    const { actorType, actorId, method, timeoutMs } = this.request;
    this.reject(new CallTimeoutError(`${actorType}/${actorId}`, method, timeoutMs));
  }

  /** Hands the result to the caller (once). */
  protected abstract deliver(value: unknown): void;
  /** Hands the error to the caller (once). */
  protected abstract fail(error: unknown): void;

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

/** A call whose caller awaits {@link promise} (references on this silo): the only promise of the call. */
export class PromiseCallRecord extends CallRecord {
  readonly promise: Promise<unknown>;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;

  constructor(
    request: CallRequest,
    deadlines: DeadlineTracker,
    span: Span | undefined,
    onSettled: (record: CallRecord) => void,
  ) {
    super(request, deadlines, span, onSettled);
    this.promise = new Promise(capture);
    this.#resolve = captured.resolve;
    this.#reject = captured.reject;
  }

  protected deliver(value: unknown): void {
    this.#resolve(value);
  }

  protected fail(error: unknown): void {
    this.#reject(error);
  }
}

/** A call answered through another object, e.g. the transport's reply to a remote caller: no promise. */
export class AnsweredCallRecord extends CallRecord {
  constructor(
    request: CallRequest,
    readonly answer: CallAnswer,
    deadlines: DeadlineTracker,
    span: Span | undefined,
    onSettled: (record: CallRecord) => void,
  ) {
    super(request, deadlines, span, onSettled);
  }

  protected deliver(value: unknown): void {
    this.answer.resolve(value, this.ownerHint);
  }

  protected fail(error: unknown): void {
    this.answer.reject(error, this.ownerHint);
  }
}
