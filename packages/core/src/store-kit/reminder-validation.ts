import { InvalidArgumentError } from "../errors.js";
import type { ReminderRecord } from "../ports/reminder-store.js";
import { MissedTicks } from "../schedules/schedule-options.js";

const POLICIES: readonly string[] = Object.values(MissedTicks);

/** Rejects a malformed reminder record before any store writes it (every adapter calls it). */
export function validateReminder(reminder: ReminderRecord): void {
  const fail = (field: string, problem: string): never => {
    throw new InvalidArgumentError(`reminder ${field} ${problem}`, { field });
  };
  if (typeof reminder?.stream !== "string" || reminder.stream.length === 0)
    fail("stream", "must be a non-empty string");
  if (typeof reminder.name !== "string" || reminder.name.length === 0) fail("name", "must be a non-empty string");
  if (typeof reminder.registrationId !== "string" || reminder.registrationId.length === 0) {
    fail("registrationId", "must be a non-empty string");
  }
  if (!Number.isSafeInteger(reminder.dueAt) || reminder.dueAt < 0) {
    fail("dueAt", `must be epoch milliseconds (an integer >= 0), got ${reminder.dueAt}`);
  }
  if (!Number.isSafeInteger(reminder.periodMs) || reminder.periodMs < 0) {
    fail("periodMs", `must be an integer >= 0 (0 = one tick), got ${reminder.periodMs}`);
  }
  if (!POLICIES.includes(reminder.missed))
    fail("missed", `must be one of ${POLICIES.join(", ")}, got ${reminder.missed}`);
  if (!Number.isSafeInteger(reminder.partition) || reminder.partition < 0) {
    fail("partition", `must be an integer >= 0, got ${reminder.partition}`);
  }
}
