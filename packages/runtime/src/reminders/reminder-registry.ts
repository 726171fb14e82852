import type { Clock, ReminderInfo, ReminderOptions, ReminderRecord, ReminderStore } from "@granary/core";
import { newId } from "../calls/call-context.js";
import { partitionOf } from "./reminder-partitions.js";
import { resolveReminderOptions } from "./reminder-schedule.js";

/**
 * Registering, listing and cancelling reminders by stream: what actors (`this.remind`) and operators
 * (`silo.reminders`, `client.reminders`) use. Writes go straight to the reminder store; `onRegistered`
 * lets the local reminder service poll early for a reminder due before its next poll.
 */
export class ReminderRegistry {
  constructor(
    readonly store: ReminderStore,
    readonly clock: Clock,
    readonly onRegistered: (dueAt: number) => void = () => {},
  ) {}

  /** Durable when it resolves; replaces a reminder of the same name. */
  async register(stream: string, name: string, options: ReminderOptions, traceparent?: string): Promise<void> {
    const schedule = resolveReminderOptions(name, options, this.clock.now());
    const record: ReminderRecord = {
      stream,
      name,
      registrationId: newId(),
      dueAt: schedule.dueAt,
      periodMs: schedule.periodMs,
      missed: schedule.missed,
      partition: partitionOf(stream),
      ...(traceparent === undefined ? {} : { traceparent }),
    };
    await this.store.upsert(record);
    this.onRegistered(record.dueAt);
  }

  cancel(stream: string, name: string): Promise<boolean> {
    return this.store.cancel(stream, name);
  }

  /** Cancels every reminder of the stream (purge). */
  cancelAll(stream: string): Promise<number> {
    return this.store.cancelAll(stream);
  }

  async list(stream: string): Promise<ReminderInfo[]> {
    return (await this.store.list(stream)).map(infoOf);
  }
}

export function infoOf(record: ReminderRecord): ReminderInfo {
  return {
    name: record.name,
    dueAt: new Date(record.dueAt).toISOString(),
    ...(record.periodMs > 0 ? { periodMs: record.periodMs } : {}),
    missed: record.missed,
  };
}
