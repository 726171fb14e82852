import { CallTimeoutError } from "@granary/core";
import type { RequestOptions, ResponseSink } from "./connection-types.js";

/** A request sent (or waiting for room to be sent) and not answered yet. */
export class PendingCall {
  /** When it times out (`performance.now()` ms: monotonic, unlike Date.now). */
  deadline = Number.POSITIVE_INFINITY;
  onAbort: (() => void) | undefined = undefined;
  /** The request frame was queued for the socket: from then on it may execute. */
  sent = false;

  constructor(
    readonly sink: ResponseSink,
    readonly options: RequestOptions | undefined,
  ) {}
}

/**
 * The requests a connection sent and awaits answers for, by call id, with their deadlines: one
 * timer per table, at the earliest deadline, instead of one per call.
 */
export class PendingCalls {
  readonly #calls = new Map<number, PendingCall>();
  /** "peer host:port", for the timeout error. */
  readonly #peer: string;
  #nextId = 1;
  #sweepTimer: ReturnType<typeof setTimeout> | undefined;
  #sweepAt = Number.POSITIVE_INFINITY;

  constructor(peer: string) {
    this.#peer = peer;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Registers a call (its timeout and abort signal included) and returns its id. */
  add(sink: ResponseSink, options: RequestOptions | undefined): { id: number; call: PendingCall } {
    const id = this.#nextId++;
    const call = new PendingCall(sink, options);
    this.#calls.set(id, call);
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined) {
      call.deadline = performance.now() + timeoutMs;
      // Calls of equal timeouts never move the timer.
      if (call.deadline < this.#sweepAt) this.#scheduleSweep(call.deadline);
    }
    const signal = options?.signal;
    if (signal !== undefined) {
      call.onAbort = () => this.take(id)?.sink.reject(signal.reason);
      signal.addEventListener("abort", call.onAbort, { once: true });
    }
    return { id, call };
  }

  /** Whether `call` is still the one waiting under `id` (not answered, timed out or aborted). */
  holds(id: number, call: PendingCall): boolean {
    return this.#calls.get(id) === call;
  }

  /** Removes and returns the call under `id`, or undefined when it is gone already. */
  take(id: number): PendingCall | undefined {
    const call = this.#calls.get(id);
    if (call === undefined) return undefined;
    this.#calls.delete(id);
    if (call.onAbort !== undefined) call.options?.signal?.removeEventListener("abort", call.onAbort);
    return call;
  }

  /** Removes and returns the calls whose request was not written yet. */
  takeUnsent(): PendingCall[] {
    const unsent: PendingCall[] = [];
    for (const [id, call] of this.#calls) if (!call.sent) unsent.push(this.take(id)!);
    return unsent;
  }

  /** Removes and returns every call, and stops the timer: the connection is gone. */
  takeAll(): PendingCall[] {
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#sweepAt = Number.POSITIVE_INFINITY;
    return [...this.#calls.keys()].map((id) => this.take(id)!);
  }

  #scheduleSweep(at: number): void {
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepAt = at;
    this.#sweepTimer = setTimeout(this.#sweep, Math.max(0, Math.ceil(at - performance.now())));
    // The open socket keeps the process alive while requests are pending; this timer must not keep
    // it alive after the last one was answered (it is not cleared then, to spare a timer per call).
    this.#sweepTimer.unref();
  }

  /** Rejects the requests whose deadline passed, then waits for the next deadline. */
  readonly #sweep = (): void => {
    this.#sweepTimer = undefined;
    this.#sweepAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [id, call] of this.#calls) {
      if (call.deadline <= now) {
        this.take(id);
        const timeoutMs = call.options?.timeoutMs ?? 0;
        call.sink.reject(call.options?.timeoutError?.() ?? new CallTimeoutError(this.#peer, "request", timeoutMs));
      } else if (call.deadline < next) {
        next = call.deadline;
      }
    }
    if (next !== Number.POSITIVE_INFINITY && next < this.#sweepAt) this.#scheduleSweep(next);
  };
}
