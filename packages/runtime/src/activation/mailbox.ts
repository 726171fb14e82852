import type { CallContext, CallRequest } from "../calls/call-context.js";

/** A call waiting for (or running in) a turn, with the means to answer its caller. */
export interface PendingCall {
  readonly request: CallRequest;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /**
   * A turn that runs this instead of a method: a timer tick. It belongs to this activation's
   * instance, so it is never handed to another activation, and it does not count as activity.
   */
  readonly body?: () => unknown;
}

const EMPTY: PendingCall[] = Object.freeze([]) as unknown as PendingCall[];

/**
 * FIFO of calls waiting for their turn, plus the set of calls currently running, which decides
 * call-chain reentrancy: a call whose chain contains a running call belongs to a chain that is
 * already inside this actor (A → B → A) and must be admitted at once, or the chain deadlocks.
 *
 * The activation extends it rather than holding one: the mailbox's fields then live in the
 * activation object itself, which every call reads anyway (one object to reach instead of two,
 * and one less per idle activation). Its members are protected: only the activation uses them.
 */
export abstract class Mailbox {
  // Shared empty queue until a call has to wait: most calls run at once and never queue.
  #queue: PendingCall[] = EMPTY;
  #head = 0;
  // Calls running now, oldest first: `#newest` is the last of them; `#older` (created only when
  // reentrant or read-only calls overlap) holds the ones before it. One call at a time, the common
  // case, then costs a field write instead of a push that allocates a fresh array backing store.
  #newest: CallContext | undefined;
  #older: CallContext[] | undefined;

  protected get depth(): number {
    return this.#queue.length - this.#head;
  }

  protected get runningTurns(): number {
    if (this.#newest === undefined) return 0;
    return this.#older === undefined ? 1 : this.#older.length + 1;
  }

  protected push(call: PendingCall): void {
    if (this.#queue === EMPTY) this.#queue = [];
    this.#queue.push(call);
  }

  protected shift(): PendingCall | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const call = this.#queue[this.#head] as PendingCall;
    this.#queue[this.#head++] = undefined as unknown as PendingCall;
    if (this.#head === this.#queue.length) {
      // Drained: back to the shared empty queue, so an idle activation keeps no array (every first
      // call waits in the queue while its activation loads, and would leave one behind).
      this.#queue = EMPTY;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      // Compact now and then so a long-lived busy mailbox does not grow without bound.
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return call;
  }

  protected peek(): PendingCall | undefined {
    return this.#head < this.#queue.length ? this.#queue[this.#head] : undefined;
  }

  /** Takes every waiting call (on failure or hand-over to a successor activation). */
  protected drain(): PendingCall[] {
    const calls = this.#queue.slice(this.#head);
    this.#queue = EMPTY;
    this.#head = 0;
    return calls;
  }

  protected isReentrant(request: CallRequest): boolean {
    const newest = this.#newest;
    if (newest === undefined) return false;
    const chain = request.context.chain;
    // The last chain entry is the call itself; its ancestors are what may be running here.
    const older = this.#older;
    for (let i = chain.length - 2; i >= 0; i--) {
      const ancestor = chain[i];
      if (newest.callId === ancestor) return true;
      if (older !== undefined) {
        for (let r = 0; r < older.length; r++) if ((older[r] as CallContext).callId === ancestor) return true;
      }
    }
    return false;
  }

  protected started(context: CallContext): void {
    const newest = this.#newest;
    if (newest !== undefined) {
      if (this.#older === undefined) this.#older = [newest];
      else this.#older.push(newest);
    }
    this.#newest = context;
  }

  protected finished(context: CallContext): void {
    const older = this.#older;
    if (this.#newest === context) {
      if (older === undefined) this.#newest = undefined;
      else this.#newest = older.pop();
    } else if (older !== undefined) {
      const index = older.indexOf(context);
      if (index < 0) return;
      older.splice(index, 1);
    } else {
      return;
    }
    if (older !== undefined && older.length === 0) this.#older = undefined;
  }

  /**
   * The context of the turn now running (the innermost, when reentrant calls are nested), which
   * calls the actor makes continue. Turns of one actor never run in parallel except nested in a
   * chain, so "most recently started and still running" is the caller.
   */
  protected get current(): CallContext | undefined {
    return this.#newest;
  }
}
