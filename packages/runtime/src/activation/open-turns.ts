import type { CallContext } from "../calls/call-context.js";

/** One open call: its context, whether it is a command (may raise), and its method. */
interface Turn {
  readonly context: CallContext;
  readonly command: boolean;
  readonly method: string;
}

/**
 * The calls running in one activation (command and read-only), oldest first, and whether they
 * *nest*: each one is a descendant, in its call chain, of every call that started before it
 * (A → B → A′ → C → A″). Nested calls run one at a time in effect (each outer call is suspended
 * waiting for the inner one), so events can be committed and rolled back per call. Calls of one
 * chain that are inside the actor *side by side* (a fan-out that re-entered it twice, or a command
 * beside a read-only call) are not nested, and while any such pair is open nobody may raise.
 *
 * Usually holds one call; more only while calls re-enter or read-only calls overlap. The one call
 * lives in fields (a command allocates nothing here); the array of turns exists only while more
 * than one is open, so an idle activation holds no arrays either.
 *
 * The event-sourced turn executor extends it rather than holding one, so these fields live in the
 * executor object a command reads anyway; the members are protected for that one user.
 */
export abstract class OpenTurns {
  /** The single open call, while exactly one is open. */
  #only: CallContext | undefined;
  #onlyCommand = false;
  #onlyMethod = "";
  /** Every open call, oldest first, while more than one is open. */
  #many: Turn[] | undefined;
  #commands = 0;
  #sideBySide = false;

  protected get size(): number {
    return this.#many ? this.#many.length : this.#only === undefined ? 0 : 1;
  }

  /** The newest open call (the innermost, while calls nest). */
  protected get newest(): CallContext | undefined {
    const many = this.#many;
    return many ? (many[many.length - 1] as Turn).context : this.#only;
  }

  /** True while two open calls, one of them a command, are not nested. */
  protected get sideBySide(): boolean {
    return this.#sideBySide;
  }

  /** The method of an open call; undefined once it closed. */
  protected methodOf(context: CallContext): string | undefined {
    if (this.#only === context) return this.#onlyMethod;
    return this.#turnOf(context)?.method;
  }

  /** Whether `context` is an open command (may raise). */
  protected isCommand(context: CallContext): boolean {
    if (this.#only === context) return this.#onlyCommand;
    return this.#turnOf(context)?.command ?? false;
  }

  /** The turn of `context` while more than one call is open, newest first (the innermost is the usual ask). */
  #turnOf(context: CallContext): Turn | undefined {
    const many = this.#many;
    if (!many) return undefined;
    for (let i = many.length - 1; i >= 0; i--) if ((many[i] as Turn).context === context) return many[i];
    return undefined;
  }

  /** The open calls, oldest first. */
  protected all(): readonly CallContext[] {
    if (this.#many) return this.#many.map((turn) => turn.context);
    return this.#only === undefined ? [] : [this.#only];
  }

  /** Records a call that starts now; returns `sideBySide` afterwards. */
  protected open(context: CallContext, command: boolean, method: string): boolean {
    if (command) this.#commands++;
    const only = this.#only;
    const many = this.#many;
    if (only === undefined && many === undefined) {
      this.#only = context;
      this.#onlyCommand = command;
      this.#onlyMethod = method;
      return this.#sideBySide;
    }
    const turns = many ?? [{ context: only as CallContext, command: this.#onlyCommand, method: this.#onlyMethod }];
    if (!this.#sideBySide && (command || this.#commands > (command ? 1 : 0))) {
      const chain = context.chain;
      for (const earlier of turns) {
        if (!chain.includes(earlier.context.callId)) {
          this.#sideBySide = true;
          break;
        }
      }
    }
    turns.push({ context, command, method });
    this.#many = turns;
    this.#only = undefined;
    return this.#sideBySide;
  }

  /** Forgets a call that ended; returns `sideBySide` afterwards. */
  protected close(context: CallContext): boolean {
    if (this.#only === context) {
      if (this.#onlyCommand) this.#commands--;
      this.#only = undefined;
      this.#onlyMethod = "";
      this.#sideBySide = false;
      return false;
    }
    const many = this.#many;
    if (!many) return this.#sideBySide;
    let index = -1;
    for (let i = many.length - 1; i >= 0; i--) {
      if ((many[i] as Turn).context === context) {
        index = i;
        break;
      }
    }
    if (index < 0) return this.#sideBySide;
    if ((many[index] as Turn).command) this.#commands--;
    many.splice(index, 1);
    if (many.length === 1) {
      const last = many[0] as Turn;
      this.#many = undefined;
      this.#only = last.context;
      this.#onlyCommand = last.command;
      this.#onlyMethod = last.method;
    }
    if (this.#sideBySide) this.#sideBySide = this.#commands > 0 && !this.#nested();
    return this.#sideBySide;
  }

  /** Whether every open command is nested with every other open call. */
  #nested(): boolean {
    const open = this.#many;
    if (!open) return true;
    for (let i = 0; i < open.length; i++) {
      const call = open[i] as Turn;
      if (!call.command) continue;
      for (let j = 0; j < open.length; j++) {
        if (j === i) continue;
        const other = open[j] as Turn;
        const nested =
          j < i ? call.context.chain.includes(other.context.callId) : other.context.chain.includes(call.context.callId);
        if (!nested) return false;
      }
    }
    return true;
  }
}
