import type { CallRequest } from "../calls/call-context.js";

/** A call waiting for (or running in) a turn, with the means to answer its caller. */
export interface PendingCall {
  readonly request: CallRequest;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * FIFO of calls waiting for their turn, plus the set of calls currently running, which decides
 * call-chain reentrancy: a call whose chain contains a running call belongs to a chain that is
 * already inside this actor (A → B → A) and must be admitted at once, or the chain deadlocks.
 */
export class Mailbox {
  #queue: PendingCall[] = [];
  #head = 0;
  readonly #running = new Set<string>();

  get depth(): number {
    return this.#queue.length - this.#head;
  }

  get runningTurns(): number {
    return this.#running.size;
  }

  push(call: PendingCall): void {
    this.#queue.push(call);
  }

  shift(): PendingCall | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const call = this.#queue[this.#head] as PendingCall;
    this.#queue[this.#head++] = undefined as unknown as PendingCall;
    // Compact now and then so a long-lived busy mailbox does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return call;
  }

  /** Takes every waiting call (on failure or hand-over to a successor activation). */
  drain(): PendingCall[] {
    const calls = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    return calls;
  }

  isReentrant(request: CallRequest): boolean {
    if (this.#running.size === 0) return false;
    const chain = request.context.chain;
    // The last chain entry is the call itself; its ancestors are what may be running here.
    for (let i = chain.length - 2; i >= 0; i--) if (this.#running.has(chain[i] as string)) return true;
    return false;
  }

  started(callId: string): void {
    this.#running.add(callId);
  }

  finished(callId: string): void {
    this.#running.delete(callId);
  }
}
