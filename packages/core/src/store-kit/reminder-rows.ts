import type { ReminderRecord } from "../ports/reminder-store.js";
import type { MissedTickPolicy } from "../schedules/schedule-options.js";

/** The columns of a SQL `reminders` row, in {@link reminderRowValues} order, after the namespace. */
export const REMINDER_COLUMNS = "stream, name, registration_id, due_at, period_ms, missed, partition, traceparent";

/**
 * A `reminders` row as a SQL adapter reads it ({@link REMINDER_COLUMNS}). Millisecond columns are
 * numbers in SQLite and bigint strings in PostgreSQL.
 */
export interface ReminderRow {
  readonly stream: string;
  readonly name: string;
  readonly registration_id: string;
  readonly due_at: number | string;
  readonly period_ms: number | string;
  readonly missed: string;
  readonly partition: number;
  readonly traceparent: string | null;
}

/** The record a row holds; a null traceparent is left out. */
export function reminderFromRow(row: ReminderRow): ReminderRecord {
  return {
    stream: row.stream,
    name: row.name,
    registrationId: row.registration_id,
    dueAt: Number(row.due_at),
    periodMs: Number(row.period_ms),
    missed: row.missed as MissedTickPolicy,
    partition: row.partition,
    ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
  };
}

/** The values of {@link REMINDER_COLUMNS} for a record, as an upsert writes them. */
export function reminderRowValues(
  reminder: ReminderRecord,
): [string, string, string, number, number, MissedTickPolicy, number, string | null] {
  return [
    reminder.stream,
    reminder.name,
    reminder.registrationId,
    reminder.dueAt,
    reminder.periodMs,
    reminder.missed,
    reminder.partition,
    reminder.traceparent ?? null,
  ];
}
