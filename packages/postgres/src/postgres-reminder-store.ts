import {
  type AdvanceOutcome,
  type DueReminders,
  type PartitionClaim,
  REMINDER_COLUMNS,
  type ReminderRecord,
  type ReminderRow,
  type ReminderStore,
  reminderFromRow,
  reminderRowValues,
  validateReminder,
} from "@granary/core";
import { Connection } from "./internal/connection.js";
import { type PostgresSnapshotStoreOptions, resolvePostgresOptions } from "./postgres-options.js";

/**
 * Reminders in PostgreSQL, in the events' database (`<schema>.reminders`, indexed by partition and
 * due time; partition epochs in `<schema>.reminder_partitions`). Every write is one call of one of
 * Granary's functions (reminder-schema-sql.ts), so it also works as a least-privilege application
 * role (see grantApplicationRole).
 *
 * @example
 * const reminders = new PostgresReminderStore({ connectionString: process.env.DATABASE_URL });
 */
export class PostgresReminderStore implements ReminderStore {
  readonly #db: Connection;
  readonly #namespace: string;
  readonly #sql: ReturnType<typeof statements>;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: PostgresSnapshotStoreOptions) {
    const resolved = resolvePostgresOptions(options);
    this.#db = new Connection(resolved, "PostgresReminderStore");
    this.#namespace = resolved.namespace;
    this.#sql = statements(this.#db.s);
  }

  async upsert(reminder: ReminderRecord): Promise<void> {
    validateReminder(reminder);
    await this.#query(this.#sql.upsert, [this.#namespace, ...reminderRowValues(reminder)]);
  }

  async get(stream: string, name: string): Promise<ReminderRecord | undefined> {
    const rows = await this.#query<ReminderRow>(this.#sql.get, [this.#namespace, stream, name]);
    return rows[0] && reminderFromRow(rows[0]);
  }

  async list(stream: string): Promise<ReminderRecord[]> {
    return (await this.#query<ReminderRow>(this.#sql.list, [this.#namespace, stream])).map(reminderFromRow);
  }

  async cancel(stream: string, name: string): Promise<boolean> {
    const rows = await this.#query<{ n: number }>(this.#sql.cancel, [this.#namespace, stream, name]);
    return (rows[0]?.n ?? 0) > 0;
  }

  async cancelAll(stream: string): Promise<number> {
    return (await this.#query<{ n: number }>(this.#sql.cancelAll, [this.#namespace, stream]))[0]?.n ?? 0;
  }

  async claimDue(claims: readonly PartitionClaim[], until: number, limit: number): Promise<DueReminders> {
    if (claims.length === 0) return { due: [], fenced: [] };
    const partitions = claims.map((c) => c.partition);
    const epochs = claims.map((c) => c.epoch);
    const fencedRows = await this.#query<{ fenced: number }>(this.#sql.claim, [this.#namespace, partitions, epochs]);
    const fenced = fencedRows.map((r) => r.fenced);
    const open = partitions.filter((p) => !fenced.includes(p));
    const rows =
      open.length === 0 ? [] : await this.#query<ReminderRow>(this.#sql.due, [this.#namespace, open, until, limit]);
    return { due: rows.map(reminderFromRow), fenced };
  }

  async advance(
    reminder: Pick<ReminderRecord, "stream" | "name" | "registrationId" | "dueAt" | "partition">,
    nextDueAt: number | undefined,
    epoch: number,
  ): Promise<AdvanceOutcome> {
    const rows = await this.#query<{ outcome: AdvanceOutcome }>(this.#sql.advance, [
      this.#namespace,
      reminder.partition,
      epoch,
      reminder.stream,
      reminder.name,
      reminder.registrationId,
      reminder.dueAt,
      nextDueAt ?? null,
    ]);
    return rows[0]?.outcome as AdvanceOutcome;
  }

  async partitionEpoch(partition: number): Promise<number> {
    const rows = await this.#query<{ epoch: string }>(this.#sql.epoch, [this.#namespace, partition]);
    return rows[0] ? Number(rows[0].epoch) : 0;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  #query<T = unknown>(text: string, values: unknown[]): Promise<T[]> {
    return this.#db.run(async () => (await this.#db.pool.query(text, values)).rows as T[]);
  }
}

function statements(s: string) {
  return {
    upsert: `SELECT ${s}.upsert_reminder($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    get: `SELECT ${REMINDER_COLUMNS} FROM ${s}.reminders WHERE namespace = $1 AND stream = $2 AND name = $3`,
    list: `SELECT ${REMINDER_COLUMNS} FROM ${s}.reminders WHERE namespace = $1 AND stream = $2 ORDER BY name COLLATE "C"`,
    cancel: `SELECT ${s}.cancel_reminder($1, $2, $3) AS n`,
    cancelAll: `SELECT ${s}.cancel_reminders($1, $2) AS n`,
    claim: `SELECT fenced FROM ${s}.claim_reminder_partitions($1, $2::integer[], $3::bigint[])`,
    // One index range per partition, merged: cost follows what is due, not how many reminders exist.
    due: `SELECT r.* FROM unnest($2::integer[]) AS c(partition) CROSS JOIN LATERAL (
        SELECT ${REMINDER_COLUMNS} FROM ${s}.reminders
        WHERE namespace = $1 AND partition = c.partition AND due_at <= $3 ORDER BY due_at LIMIT $4) r
      ORDER BY r.due_at LIMIT $4`,
    advance: `SELECT ${s}.advance_reminder($1, $2, $3, $4, $5, $6, $7, $8) AS outcome`,
    epoch: `SELECT epoch FROM ${s}.reminder_partitions WHERE namespace = $1 AND partition = $2`,
  };
}
