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
  ShuttingDownError,
  validateReminder,
} from "@granary/core";
import type { Database } from "better-sqlite3";
import { openDatabase } from "./database.js";
import { GroupCommitQueue } from "./group-commit-queue.js";
import { type ResolvedSqliteOptions, resolveSqliteOptions, type SqliteStoreOptions } from "./sqlite-options.js";

/**
 * Reminders in the same SQLite file as the events (table `reminders`, indexed by partition and due
 * time; partition epochs in `reminder_partitions`). Writes issued in one event-loop turn share one
 * transaction and one fsync (group commit, as appends do), so registering thousands of reminders a
 * second does not cost an fsync each; each caller resolves after COMMIT.
 *
 * @example
 * const reminders = new SqliteReminderStore({ path: "./.granary/granary.db" });
 */
export class SqliteReminderStore implements ReminderStore {
  readonly #options: ResolvedSqliteOptions;
  readonly #db: Database;
  readonly #sql: ReturnType<typeof prepare>;
  readonly #claim: (claims: readonly PartitionClaim[], until: number, limit: number) => DueReminders;
  readonly #advance: (
    reminder: Pick<ReminderRecord, "stream" | "name" | "registrationId" | "dueAt" | "partition">,
    nextDueAt: number | undefined,
    epoch: number,
  ) => AdvanceOutcome;
  readonly #queue: GroupCommitQueue;
  #closed = false;

  /** @throws InvalidConfigurationError for invalid options */
  constructor(options: SqliteStoreOptions = {}) {
    this.#options = resolveSqliteOptions(options);
    this.#db = openDatabase(this.#options);
    this.#queue = new GroupCommitQueue(this.#db, () => {});
    const sql = prepare(this.#db);
    this.#sql = sql;
    const namespace = this.#options.namespace;
    this.#claim = (claims: readonly PartitionClaim[], until: number, limit: number) => {
      const fenced: number[] = [];
      const due: ReminderRecord[] = [];
      for (const { partition, epoch } of claims) {
        const current = sql.epoch.get(namespace, partition)?.epoch ?? 0;
        if (current > epoch) {
          fenced.push(partition);
          continue;
        }
        if (current < epoch) sql.saveEpoch.run(namespace, partition, epoch);
        for (const row of sql.due.all(namespace, partition, until, limit)) due.push(reminderFromRow(row));
      }
      due.sort((a, b) => a.dueAt - b.dueAt);
      return { due: due.slice(0, limit), fenced };
    };
    this.#advance = (
      reminder: Pick<ReminderRecord, "stream" | "name" | "registrationId" | "dueAt" | "partition">,
      nextDueAt: number | undefined,
      epoch: number,
    ): AdvanceOutcome => {
      const current = sql.epoch.get(namespace, reminder.partition)?.epoch ?? 0;
      if (current > epoch) return "fenced";
      const key = [namespace, reminder.stream, reminder.name, reminder.registrationId, reminder.dueAt] as const;
      const changes =
        nextDueAt === undefined ? sql.deleteIf.run(...key).changes : sql.moveIf.run(nextDueAt, ...key).changes;
      return changes === 1 ? "advanced" : "changed";
    };
  }

  async upsert(reminder: ReminderRecord): Promise<void> {
    this.#assertOpen();
    validateReminder(reminder);
    const namespace = this.#options.namespace;
    await this.#queue.enqueue(() => this.#sql.upsert.run(namespace, ...reminderRowValues(reminder)));
  }

  async get(stream: string, name: string): Promise<ReminderRecord | undefined> {
    this.#assertOpen();
    const row = this.#sql.get.get(this.#options.namespace, stream, name);
    return row && reminderFromRow(row);
  }

  async list(stream: string): Promise<ReminderRecord[]> {
    this.#assertOpen();
    return this.#sql.list.all(this.#options.namespace, stream).map(reminderFromRow);
  }

  async cancel(stream: string, name: string): Promise<boolean> {
    this.#assertOpen();
    const namespace = this.#options.namespace;
    return this.#queue.enqueue(() => this.#sql.cancel.run(namespace, stream, name).changes > 0);
  }

  async cancelAll(stream: string): Promise<number> {
    this.#assertOpen();
    const namespace = this.#options.namespace;
    return this.#queue.enqueue(() => this.#sql.cancelAll.run(namespace, stream).changes);
  }

  async claimDue(claims: readonly PartitionClaim[], until: number, limit: number): Promise<DueReminders> {
    this.#assertOpen();
    return this.#queue.enqueue(() => this.#claim(claims, until, limit));
  }

  async advance(
    reminder: Pick<ReminderRecord, "stream" | "name" | "registrationId" | "dueAt" | "partition">,
    nextDueAt: number | undefined,
    epoch: number,
  ): Promise<AdvanceOutcome> {
    this.#assertOpen();
    return this.#queue.enqueue(() => this.#advance(reminder, nextDueAt, epoch));
  }

  async partitionEpoch(partition: number): Promise<number> {
    this.#assertOpen();
    return this.#sql.epoch.get(this.#options.namespace, partition)?.epoch ?? 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.close();
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShuttingDownError("the SQLite reminder store");
  }
}

function prepare(db: Database) {
  type Key = [namespace: string, stream: string, name: string];
  type Cas = [namespace: string, stream: string, name: string, registrationId: string, dueAt: number];
  return {
    upsert: db.prepare<[...Key, string, number, number, string, number, string | null]>(
      `INSERT INTO reminders (namespace, ${REMINDER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, stream, name) DO UPDATE SET registration_id = excluded.registration_id,
         due_at = excluded.due_at, period_ms = excluded.period_ms, missed = excluded.missed,
         partition = excluded.partition, traceparent = excluded.traceparent`,
    ),
    get: db.prepare<Key, ReminderRow>(
      `SELECT ${REMINDER_COLUMNS} FROM reminders WHERE namespace = ? AND stream = ? AND name = ?`,
    ),
    list: db.prepare<[string, string], ReminderRow>(
      `SELECT ${REMINDER_COLUMNS} FROM reminders WHERE namespace = ? AND stream = ? ORDER BY name`,
    ),
    cancel: db.prepare<Key>("DELETE FROM reminders WHERE namespace = ? AND stream = ? AND name = ?"),
    cancelAll: db.prepare<[string, string]>("DELETE FROM reminders WHERE namespace = ? AND stream = ?"),
    due: db.prepare<[string, number, number, number], ReminderRow>(
      `SELECT ${REMINDER_COLUMNS} FROM reminders WHERE namespace = ? AND partition = ? AND due_at <= ? ORDER BY due_at LIMIT ?`,
    ),
    epoch: db.prepare<[string, number], { epoch: number }>(
      "SELECT epoch FROM reminder_partitions WHERE namespace = ? AND partition = ?",
    ),
    saveEpoch: db.prepare<[string, number, number]>(
      `INSERT INTO reminder_partitions (namespace, partition, epoch) VALUES (?, ?, ?)
       ON CONFLICT (namespace, partition) DO UPDATE SET epoch = max(epoch, excluded.epoch)`,
    ),
    moveIf: db.prepare<[number, ...Cas]>(
      `UPDATE reminders SET due_at = ? WHERE namespace = ? AND stream = ? AND name = ? AND registration_id = ? AND due_at = ?`,
    ),
    deleteIf: db.prepare<Cas>(
      "DELETE FROM reminders WHERE namespace = ? AND stream = ? AND name = ? AND registration_id = ? AND due_at = ?",
    ),
  };
}
