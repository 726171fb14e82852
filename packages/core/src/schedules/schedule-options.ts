/**
 * What actors pass to `setTimer` and `remind`, and what a reminder tick carries. Timers are
 * volatile (they live and die with one activation); reminders are durable (stored beside the events,
 * they re-activate the actor wherever the directory places it).
 */

/** Options of `this.setTimer(name, options, callback)`. */
export interface TimerOptions {
  /** Milliseconds until the first tick (0 = as soon as the current turn ends). */
  readonly dueMs: number;
  /**
   * Milliseconds between the end of one tick's turn and the next tick; absent = one tick only.
   * Measured from the end of the tick, so ticks never pile up behind a slow callback.
   */
  readonly periodMs?: number;
  /**
   * Whether the timer keeps the activation from idle deactivation while it is set. Ticks are not
   * calls: without keepAlive they do not count as activity, so an idle actor is still collected
   * (and its timers with it).
   * @default false (as Orleans: a timer alone does not keep an actor alive)
   */
  readonly keepAlive?: boolean;
}

/** What happens to periodic ticks that fell due while no silo could fire them (downtime). */
export const MissedTicks = {
  /** One catch-up tick now (its `missedTicks` says how many it stands for), then the schedule resumes. */
  FireOnce: "fire-once",
  /** Missed ticks are dropped: the next tick is the next one in the future. */
  Skip: "skip",
  /** Every missed tick fires, oldest first, up to {@link MAX_CATCH_UP_TICKS}; older ones are dropped. */
  FireAll: "fire-all",
} as const;
export type MissedTickPolicy = (typeof MissedTicks)[keyof typeof MissedTicks];

/** "fire-all" replays at most this many missed ticks of one reminder (the most recent ones). */
export const MAX_CATCH_UP_TICKS = 100;

/** Options of `await this.remind(name, options)`: exactly one of `at` and `inMs`. */
export interface ReminderOptions {
  /** When the first tick is due: a Date, an ISO 8601 string or epoch milliseconds. */
  readonly at?: Date | string | number;
  /** Milliseconds from now until the first tick. */
  readonly inMs?: number;
  /** Milliseconds between ticks (at least 1,000); absent = one tick, then the reminder is gone. */
  readonly periodMs?: number;
  /** What to do with periodic ticks missed during downtime. @default "fire-once" */
  readonly missed?: MissedTickPolicy;
}

/** One tick of a reminder, as `onReminder(name, tick)` receives it. */
export interface ReminderTick {
  /**
   * Stable id of this tick: the same on a redelivery (ticks are at least once), different for every
   * other tick and for a re-registration. Record it to make a handler idempotent.
   */
  readonly id: string;
  /** When the tick was due (ISO 8601); the tick fires at or after it. */
  readonly scheduledAt: string;
  /** How many other due ticks this one stands for under "fire-once" (0 when none were missed). */
  readonly missedTicks: number;
}

/** A registered reminder, as `this.reminders()`, `silo.reminders()` and `client.reminders()` list it. */
export interface ReminderInfo {
  readonly name: string;
  /** When the next tick is due (ISO 8601). */
  readonly dueAt: string;
  /** Milliseconds between ticks; absent for a one-shot reminder. */
  readonly periodMs?: number;
  readonly missed: MissedTickPolicy;
}

/** The smallest reminder period: reminders are for coarse, durable schedules; use a timer below it. */
export const MIN_REMINDER_PERIOD_MS = 1_000;
