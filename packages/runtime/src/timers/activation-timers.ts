import { type Clock, InvalidArgumentError, messageOf, type TimerHandle, type TimerOptions } from "@granary/core";
import type { Logger } from "pino";

/** Queues `body` as a turn of the activation; undefined when it no longer takes turns. */
export type TickTurns = (name: string, body: () => unknown) => Promise<unknown> | undefined;

interface Timer {
  readonly name: string;
  readonly periodMs: number | undefined;
  readonly keepAlive: boolean;
  readonly callback: () => unknown;
  handle: TimerHandle | undefined;
}

/**
 * The volatile timers of one activation. A timer never runs its callback itself: when it falls due
 * it queues a turn through the activation's mailbox, so a tick never runs beside a call (or another
 * tick), and events it raises commit like a command's. The next period starts when the tick's turn
 * ends, so a slow callback delays ticks instead of piling them up. Driven by the silo's clock
 * (a ManualClock in tests).
 */
export class ActivationTimers {
  readonly #timers = new Map<string, Timer>();
  #keepAlive = 0;
  #closed = false;

  constructor(
    readonly clock: Clock,
    readonly logger: Logger,
    readonly actorKey: string,
    readonly turns: TickTurns,
  ) {}

  /** Sets or replaces a timer. @throws InvalidArgumentError for a bad name, options or callback */
  set(name: string, options: TimerOptions, callback: () => unknown): void {
    if (typeof name !== "string" || name.length === 0) {
      throw new InvalidArgumentError(`setTimer: the timer name must be a non-empty string, got ${String(name)}`);
    }
    const { dueMs, periodMs, keepAlive = false } = options ?? ({} as TimerOptions);
    if (!Number.isFinite(dueMs) || dueMs < 0) {
      throw new InvalidArgumentError(`setTimer("${name}"): dueMs must be a number of milliseconds >= 0, got ${dueMs}`);
    }
    if (periodMs !== undefined && (!Number.isFinite(periodMs) || periodMs <= 0)) {
      throw new InvalidArgumentError(
        `setTimer("${name}"): periodMs must be a number of milliseconds > 0 (or absent for one tick), got ${periodMs}`,
      );
    }
    if (typeof keepAlive !== "boolean") {
      throw new InvalidArgumentError(`setTimer("${name}"): keepAlive must be true or false, got ${String(keepAlive)}`);
    }
    if (typeof callback !== "function") {
      throw new InvalidArgumentError(`setTimer("${name}"): the callback must be a function`);
    }
    if (this.#closed) {
      throw new InvalidArgumentError(
        `setTimer("${name}"): ${this.actorKey} is deactivating; it can no longer set timers`,
      );
    }
    this.cancel(name);
    const timer: Timer = { name, periodMs, keepAlive, callback, handle: undefined };
    this.#timers.set(name, timer);
    if (keepAlive) this.#keepAlive++;
    this.#schedule(timer, dueMs);
  }

  /** False when no timer has that name. */
  cancel(name: string): boolean {
    const timer = this.#timers.get(name);
    if (!timer) return false;
    this.#timers.delete(name);
    if (timer.keepAlive) this.#keepAlive--;
    if (timer.handle) this.clock.clearTimeout(timer.handle);
    timer.handle = undefined;
    return true;
  }

  names(): string[] {
    return [...this.#timers.keys()];
  }

  /** True while a keepAlive timer is set: the activation is not idle. */
  get keepsAlive(): boolean {
    return this.#keepAlive > 0;
  }

  /** On deactivation: every timer stops and no new one may be set. */
  close(): void {
    this.#closed = true;
    for (const name of [...this.#timers.keys()]) this.cancel(name);
  }

  #schedule(timer: Timer, delayMs: number): void {
    timer.handle = this.clock.setTimeout(() => this.#due(timer), delayMs);
  }

  #due(timer: Timer): void {
    timer.handle = undefined;
    if (this.#timers.get(timer.name) !== timer) return;
    const turn = this.turns(timer.name, timer.callback);
    if (!turn) return;
    const after = (): void => {
      // Cancelled or replaced while the tick ran: the replacement has its own schedule.
      if (this.#timers.get(timer.name) !== timer) return;
      if (timer.periodMs === undefined) this.cancel(timer.name);
      else this.#schedule(timer, timer.periodMs);
    };
    turn.then(after, (error: unknown) => {
      this.logger.warn({ actor: this.actorKey, timer: timer.name, err: messageOf(error) }, "timer tick threw");
      after();
    });
  }
}
