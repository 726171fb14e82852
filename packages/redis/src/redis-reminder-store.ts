import {
  type AdvanceOutcome,
  type DueReminders,
  type MissedTickPolicy,
  type PartitionClaim,
  type ReminderRecord,
  type ReminderStore,
  validateReminder,
} from "@granary/core";
import { RedisConnection } from "./internal/connection.js";
import { ADVANCE, CANCEL, CLAIM_DUE, LIST, UPSERT } from "./internal/reminder-scripts.js";
import { type RedisSnapshotStoreOptions, resolveRedisOptions } from "./redis-options.js";

/** The registration as stored in the stream's hash; the due time lives only in the partition's ZSET. */
interface StoredReminder {
  readonly registrationId: string;
  readonly periodMs: number;
  readonly missed: MissedTickPolicy;
  readonly partition: number;
  readonly traceparent?: string;
}

/**
 * Reminders on Redis, each write one Lua script: per stream a HASH (`HGETALL
 * granary:{ns}:reminders:<stream>`), per partition a ZSET scored by due time (`ZRANGE
 * granary:{ns}:reminders-due:<p> 0 -1 WITHSCORES`), partition epochs in
 * `granary:{ns}:reminder-epochs`. A poll is one script: ZRANGEBYSCORE on the claimed partitions.
 *
 * @example
 * const reminders = new RedisReminderStore({ redis: "redis://127.0.0.1:6379" });
 */
export class RedisReminderStore implements ReminderStore {
  readonly #connection: RedisConnection;
  readonly #base: string;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: RedisSnapshotStoreOptions) {
    const resolved = resolveRedisOptions(options);
    this.#connection = new RedisConnection(resolved);
    this.#base = `${resolved.keyPrefix}:{${resolved.namespace}}`;
  }

  async upsert(reminder: ReminderRecord): Promise<void> {
    validateReminder(reminder);
    const stored: StoredReminder = {
      registrationId: reminder.registrationId,
      periodMs: reminder.periodMs,
      missed: reminder.missed,
      partition: reminder.partition,
      ...(reminder.traceparent === undefined ? {} : { traceparent: reminder.traceparent }),
    };
    await this.#connection.script(
      UPSERT,
      [this.#streamKey(reminder.stream), this.#dueKey(reminder.partition)],
      [reminder.name, JSON.stringify(stored), reminder.dueAt, member(reminder.stream, reminder.name)],
    );
  }

  async get(stream: string, name: string): Promise<ReminderRecord | undefined> {
    return (await this.list(stream)).find((r) => r.name === name);
  }

  async list(stream: string): Promise<ReminderRecord[]> {
    const flat = (await this.#connection.script(
      LIST,
      [this.#streamKey(stream)],
      [this.#duePrefix, stream],
    )) as string[];
    const records: ReminderRecord[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      records.push(recordOf(stream, flat[i] as string, flat[i + 2] as string, flat[i + 1] as string));
    }
    return records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async cancel(stream: string, name: string): Promise<boolean> {
    if (name === "") return false;
    const removed = await this.#connection.script(CANCEL, [this.#streamKey(stream)], [this.#duePrefix, stream, name]);
    return Number(removed) > 0;
  }

  async cancelAll(stream: string): Promise<number> {
    return Number(await this.#connection.script(CANCEL, [this.#streamKey(stream)], [this.#duePrefix, stream, ""]));
  }

  async claimDue(claims: readonly PartitionClaim[], until: number, limit: number): Promise<DueReminders> {
    if (claims.length === 0) return { due: [], fenced: [] };
    const args: (string | number)[] = [until, limit, this.#duePrefix, `${this.#base}:reminders:`];
    for (const claim of claims) args.push(claim.partition, claim.epoch);
    const [fenced, flat] = (await this.#connection.script(CLAIM_DUE, [this.#epochsKey], args)) as [string[], string[]];
    const due: ReminderRecord[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const key = flat[i] as string;
      const separator = key.indexOf("\u0000");
      due.push(
        recordOf(key.slice(0, separator), key.slice(separator + 1), flat[i + 1] as string, flat[i + 2] as string),
      );
    }
    due.sort((a, b) => a.dueAt - b.dueAt);
    return { due: due.slice(0, limit), fenced: fenced.map(Number) };
  }

  async advance(
    reminder: Pick<ReminderRecord, "stream" | "name" | "registrationId" | "dueAt" | "partition">,
    nextDueAt: number | undefined,
    epoch: number,
  ): Promise<AdvanceOutcome> {
    const outcome = await this.#connection.script(
      ADVANCE,
      [this.#epochsKey, this.#streamKey(reminder.stream), this.#dueKey(reminder.partition)],
      [
        reminder.partition,
        epoch,
        reminder.name,
        member(reminder.stream, reminder.name),
        reminder.registrationId,
        reminder.dueAt,
        nextDueAt ?? "",
      ],
    );
    return outcome as AdvanceOutcome;
  }

  async partitionEpoch(partition: number): Promise<number> {
    const epoch = await this.#connection.run((c) => c.hget(this.#epochsKey, String(partition)));
    return epoch === null ? 0 : Number(epoch);
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }

  get #duePrefix(): string {
    return `${this.#base}:reminders-due:`;
  }

  get #epochsKey(): string {
    return `${this.#base}:reminder-epochs`;
  }

  #streamKey(stream: string): string {
    return `${this.#base}:reminders:${stream}`;
  }

  #dueKey(partition: number): string {
    return `${this.#duePrefix}${partition}`;
  }
}

function member(stream: string, name: string): string {
  return `${stream}\u0000${name}`;
}

function recordOf(stream: string, name: string, score: string, json: string): ReminderRecord {
  const stored = JSON.parse(json) as StoredReminder;
  return {
    stream,
    name,
    registrationId: stored.registrationId,
    dueAt: Number(score),
    periodMs: stored.periodMs,
    missed: stored.missed,
    partition: stored.partition,
    ...(stored.traceparent === undefined ? {} : { traceparent: stored.traceparent }),
  };
}
