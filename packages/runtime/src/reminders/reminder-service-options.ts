import { InvalidConfigurationError } from "@granary/core";

/** Tuning of a silo's reminder service (`SiloOptions.reminderService`). */
export interface ReminderServiceOptions {
  /**
   * How often each silo reads the due entries of its partitions. Bounds the lag of a tick (plus
   * the handler's time) and the polling cost (one indexed read per interval per silo).
   * @default 500
   */
  readonly pollIntervalMs?: number;
  /** At most this many due reminders are read per poll. @default 1_000 */
  readonly batchSize?: number;
  /** At most this many ticks run at once on one silo; more wait for the next poll. @default 1_000 */
  readonly maxInFlight?: number;
  /** Timeout of the call that delivers a tick. @default 30_000 */
  readonly tickTimeoutMs?: number;
  /** Upper bound of the backoff between retries of a failing tick. @default 60_000 */
  readonly maxRetryDelayMs?: number;
  /** How often partition ownership is re-checked when membership did not visibly change. @default 1_000 */
  readonly rebalanceIntervalMs?: number;
}

export type ResolvedReminderServiceOptions = Required<ReminderServiceOptions>;

export const DEFAULT_REMINDER_SERVICE_OPTIONS: ResolvedReminderServiceOptions = {
  pollIntervalMs: 500,
  batchSize: 1_000,
  maxInFlight: 1_000,
  tickTimeoutMs: 30_000,
  maxRetryDelayMs: 60_000,
  rebalanceIntervalMs: 1_000,
};

/** @throws InvalidConfigurationError naming the option */
export function resolveReminderServiceOptions(options: ReminderServiceOptions = {}): ResolvedReminderServiceOptions {
  const resolved = { ...DEFAULT_REMINDER_SERVICE_OPTIONS };
  for (const [name, value] of Object.entries(options)) {
    if (!(name in DEFAULT_REMINDER_SERVICE_OPTIONS)) {
      throw new InvalidConfigurationError(`reminderService.${name}`, "is not an option of the reminder service");
    }
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || (value as number) <= 0) {
      throw new InvalidConfigurationError(`reminderService.${name}`, `must be an integer > 0, got ${String(value)}`);
    }
    (resolved as Record<string, number>)[name] = value as number;
  }
  return resolved;
}
