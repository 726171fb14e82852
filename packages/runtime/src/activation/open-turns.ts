import type { CallContext } from "../calls/call-context.js";

/**
 * The calls running in one activation (command and read-only), oldest first, and whether they
 * *nest*: each one is a descendant, in its call chain, of every call that started before it
 * (A → B → A′ → C → A″). Nested calls run one at a time in effect (each outer call is suspended
 * waiting for the inner one), so events can be committed and rolled back per call. Calls of one
 * chain that are inside the actor *side by side* (a fan-out that re-entered it twice, or a command
 * beside a read-only call) are not nested, and while any such pair is open nobody may raise.
 *
 * Usually holds one call; more only while calls re-enter or read-only calls overlap.
 */
// Shared while nothing runs, so an idle activation holds no arrays of its own.
const NO_CALLS = Object.freeze([]) as unknown as CallContext[];
const NO_FLAGS = Object.freeze([]) as unknown as boolean[];

export class OpenTurns {
  #open: CallContext[] = NO_CALLS;
  /** Parallel to #open: whether that call is a command (may raise). */
  #command: boolean[] = NO_FLAGS;
  #commands = 0;
  #sideBySide = false;

  get size(): number {
    return this.#open.length;
  }

  /** The newest open call (the innermost, while calls nest). */
  get newest(): CallContext | undefined {
    return this.#open[this.#open.length - 1];
  }

  /** True while two open calls, one of them a command, are not nested. */
  get sideBySide(): boolean {
    return this.#sideBySide;
  }

  /** Whether `context` is an open command (may raise). */
  isCommand(context: CallContext): boolean {
    return this.#command[this.#open.lastIndexOf(context)] === true;
  }

  /** The open calls, oldest first. */
  all(): readonly CallContext[] {
    return this.#open;
  }

  /** Records a call that starts now; returns `sideBySide` afterwards. */
  open(context: CallContext, command: boolean): boolean {
    const open = this.#open;
    if (!this.#sideBySide && open.length > 0 && (command || this.#commands > 0)) {
      const chain = context.chain;
      for (const earlier of open) {
        if (!chain.includes(earlier.callId)) {
          this.#sideBySide = true;
          break;
        }
      }
    }
    if (open.length === 0) {
      this.#open = [context];
      this.#command = [command];
    } else {
      open.push(context);
      this.#command.push(command);
    }
    if (command) this.#commands++;
    return this.#sideBySide;
  }

  /** Forgets a call that ended; returns `sideBySide` afterwards. */
  close(context: CallContext): boolean {
    const open = this.#open;
    const index = open.lastIndexOf(context);
    if (index < 0) return this.#sideBySide;
    if (this.#command[index]) this.#commands--;
    if (open.length === 1) {
      this.#open = NO_CALLS;
      this.#command = NO_FLAGS;
    } else if (index === open.length - 1) {
      open.pop();
      this.#command.pop();
    } else {
      open.splice(index, 1);
      this.#command.splice(index, 1);
    }
    if (this.#sideBySide) this.#sideBySide = this.#commands > 0 && !this.#nested();
    return this.#sideBySide;
  }

  /** Whether every open command is nested with every other open call. */
  #nested(): boolean {
    const open = this.#open;
    for (let i = 0; i < open.length; i++) {
      const call = open[i] as CallContext;
      if (!this.#command[i]) continue;
      for (let j = 0; j < open.length; j++) {
        if (j === i) continue;
        const other = open[j] as CallContext;
        const nested = j < i ? call.chain.includes(other.callId) : other.chain.includes(call.callId);
        if (!nested) return false;
      }
    }
    return true;
  }
}
