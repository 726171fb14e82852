import {
  InvalidArgumentError,
  MAX_CATCH_UP_TICKS,
  MIN_REMINDER_PERIOD_MS,
  type MissedTickPolicy,
  MissedTicks,
  type ReminderOptions,
  type ReminderRecord,
  type ReminderTick,
} from "@granary/core";

const POLICIES: readonly string[] = Object.values(MissedTicks);

export interface ResolvedReminderSchedule {
  readonly dueAt: number;
  readonly periodMs: number;
  readonly missed: MissedTickPolicy;
}

/** Validates `remind` options against `now`. @throws InvalidArgumentError naming the bad option */
export function resolveReminderOptions(name: string, options: ReminderOptions, now: number): ResolvedReminderSchedule {
  const fail = (problem: string): never => {
    throw new InvalidArgumentError(`remind("${name}"): ${problem}`);
  };
  if (typeof name !== "string" || name.length === 0) fail("the reminder name must be a non-empty string");
  if (typeof options !== "object" || options === null) fail("give options, e.g. { inMs: 60_000 }");
  const { at, inMs, periodMs, missed = MissedTicks.FireOnce } = options;
  if ((at === undefined) === (inMs === undefined)) fail("give exactly one of `at` (a time) and `inMs` (a delay)");
  let dueAt: number;
  if (inMs !== undefined) {
    if (!Number.isFinite(inMs) || inMs < 0) fail(`inMs must be a number of milliseconds >= 0, got ${inMs}`);
    dueAt = now + Math.ceil(inMs);
  } else {
    dueAt = at instanceof Date ? at.getTime() : typeof at === "string" ? Date.parse(at) : (at as number);
    if (!Number.isFinite(dueAt) || dueAt < 0) {
      fail(`at must be a Date, an ISO 8601 string or epoch milliseconds, got ${String(at)}`);
    }
    dueAt = Math.ceil(dueAt);
  }
  if (periodMs !== undefined && (!Number.isSafeInteger(periodMs) || periodMs < MIN_REMINDER_PERIOD_MS)) {
    fail(`periodMs must be an integer >= ${MIN_REMINDER_PERIOD_MS} (use a timer for shorter periods), got ${periodMs}`);
  }
  if (!POLICIES.includes(missed)) fail(`missed must be one of ${POLICIES.join(", ")}, got ${String(missed)}`);
  return { dueAt, periodMs: periodMs ?? 0, missed };
}

/** What to do with a due reminder now: the tick to fire (if any) and where the reminder moves after it. */
export interface TickPlan {
  readonly tick: ReminderTick | undefined;
  /** The next due time after this step; undefined deletes the reminder (one-shot, fired). */
  readonly nextDueAt: number | undefined;
}

export function tickId(reminder: Pick<ReminderRecord, "registrationId">, scheduledAt: number): string {
  return `${reminder.registrationId}-${scheduledAt.toString(36)}`;
}

/**
 * One step of a due reminder at `now` (dueAt <= now). With k ticks due (dueAt, dueAt + period, ...
 * <= now), k - 1 of them were missed:
 * - one-shot: fires once, however late, then is deleted;
 * - "fire-all": fires the tick at dueAt and moves to the next one (the caller loops while due);
 *   when more than MAX_CATCH_UP_TICKS are due, the oldest beyond that are skipped first;
 * - "fire-once": one tick (scheduled at dueAt, `missedTicks` = k - 1), then the first future tick;
 * - "skip": the tick fires only when it is the only one due; otherwise nothing fires and the
 *   reminder moves to the first future tick.
 * A tick's id depends only on the registration and its scheduled time, so a redelivery after a
 * crash carries the same id.
 */
export function planTick(reminder: ReminderRecord, now: number): TickPlan {
  const { dueAt, periodMs } = reminder;
  const tick = (scheduledAt: number, missedTicks: number): ReminderTick => ({
    id: tickId(reminder, scheduledAt),
    scheduledAt: new Date(scheduledAt).toISOString(),
    missedTicks,
  });
  if (periodMs <= 0) return { tick: tick(dueAt, 0), nextDueAt: undefined };
  const due = Math.floor((Math.max(now, dueAt) - dueAt) / periodMs) + 1;
  const firstFuture = dueAt + due * periodMs;
  switch (reminder.missed) {
    case MissedTicks.FireAll:
      if (due > MAX_CATCH_UP_TICKS) {
        return { tick: undefined, nextDueAt: dueAt + (due - MAX_CATCH_UP_TICKS) * periodMs };
      }
      return { tick: tick(dueAt, 0), nextDueAt: dueAt + periodMs };
    case MissedTicks.Skip:
      return due === 1 ? { tick: tick(dueAt, 0), nextDueAt: firstFuture } : { tick: undefined, nextDueAt: firstFuture };
    default:
      return { tick: tick(dueAt, due - 1), nextDueAt: firstFuture };
  }
}
