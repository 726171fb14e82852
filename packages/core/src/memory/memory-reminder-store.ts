import type {
  AdvanceOutcome,
  DueReminders,
  PartitionClaim,
  ReminderRecord,
  ReminderStore,
} from "../ports/reminder-store.js";
import { validateReminder } from "../store-kit/reminder-validation.js";

interface Entry {
  readonly key: string;
  readonly record: ReminderRecord;
}

/** The data behind one or more {@link MemoryReminderStore}s; share it to re-open or open namespaces side by side. */
export class MemoryReminderStorage {
  readonly reminders = new Map<string, Entry>();
  /** Per `<namespace>\0<partition>`: entries sorted by (dueAt, key), the due-time index. */
  readonly byDue = new Map<string, Entry[]>();
  readonly epochs = new Map<string, number>();
}

export interface MemoryReminderStoreOptions {
  /** Tenant namespace: the store sees only its own reminders. @default "default" */
  readonly namespace?: string;
  readonly storage?: MemoryReminderStorage;
}

/** In-process reminders with a sorted due-time index per partition (tests, single-process use). */
export class MemoryReminderStore implements ReminderStore {
  readonly #storage: MemoryReminderStorage;
  readonly #namespace: string;

  constructor(options: MemoryReminderStoreOptions = {}) {
    this.#storage = options.storage ?? new MemoryReminderStorage();
    this.#namespace = options.namespace ?? "default";
  }

  async upsert(reminder: ReminderRecord): Promise<void> {
    validateReminder(reminder);
    const key = this.#key(reminder.stream, reminder.name);
    this.#remove(key);
    const entry = { key, record: { ...reminder } };
    this.#storage.reminders.set(key, entry);
    const index = this.#index(reminder.partition);
    index.splice(position(index, entry), 0, entry);
  }

  async get(stream: string, name: string): Promise<ReminderRecord | undefined> {
    const entry = this.#storage.reminders.get(this.#key(stream, name));
    return entry && { ...entry.record };
  }

  async list(stream: string): Promise<ReminderRecord[]> {
    const prefix = this.#key(stream, "");
    const found: ReminderRecord[] = [];
    for (const [key, entry] of this.#storage.reminders) if (key.startsWith(prefix)) found.push({ ...entry.record });
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async cancel(stream: string, name: string): Promise<boolean> {
    return this.#remove(this.#key(stream, name));
  }

  async cancelAll(stream: string): Promise<number> {
    const prefix = this.#key(stream, "");
    let removed = 0;
    for (const key of [...this.#storage.reminders.keys()]) if (key.startsWith(prefix) && this.#remove(key)) removed++;
    return removed;
  }

  async claimDue(claims: readonly PartitionClaim[], until: number, limit: number): Promise<DueReminders> {
    const fenced: number[] = [];
    const due: ReminderRecord[] = [];
    for (const { partition, epoch } of claims) {
      const epochKey = `${this.#namespace}\u0000${partition}`;
      const current = this.#storage.epochs.get(epochKey) ?? 0;
      if (current > epoch) {
        fenced.push(partition);
        continue;
      }
      this.#storage.epochs.set(epochKey, epoch);
      const index = this.#index(partition);
      for (let i = 0; i < index.length && i < limit; i++) {
        const entry = index[i] as Entry;
        if (entry.record.dueAt > until) break;
        due.push({ ...entry.record });
      }
    }
    due.sort((a, b) => a.dueAt - b.dueAt);
    return { due: due.slice(0, limit), fenced };
  }

  async advance(
    reminder: Pick<ReminderRecord, "stream" | "name" | "registrationId" | "dueAt" | "partition">,
    nextDueAt: number | undefined,
    epoch: number,
  ): Promise<AdvanceOutcome> {
    const current = this.#storage.epochs.get(`${this.#namespace}\u0000${reminder.partition}`) ?? 0;
    if (current > epoch) return "fenced";
    const key = this.#key(reminder.stream, reminder.name);
    const entry = this.#storage.reminders.get(key);
    if (!entry || entry.record.registrationId !== reminder.registrationId || entry.record.dueAt !== reminder.dueAt) {
      return "changed";
    }
    this.#remove(key);
    if (nextDueAt !== undefined) await this.upsert({ ...entry.record, dueAt: nextDueAt });
    return "advanced";
  }

  async partitionEpoch(partition: number): Promise<number> {
    return this.#storage.epochs.get(`${this.#namespace}\u0000${partition}`) ?? 0;
  }

  async close(): Promise<void> {}

  #remove(key: string): boolean {
    const entry = this.#storage.reminders.get(key);
    if (!entry) return false;
    this.#storage.reminders.delete(key);
    const index = this.#index(entry.record.partition);
    const at = position(index, entry);
    if (index[at] === entry) index.splice(at, 1);
    else index.splice(index.indexOf(entry), 1);
    return true;
  }

  #index(partition: number): Entry[] {
    const key = `${this.#namespace}\u0000${partition}`;
    let index = this.#storage.byDue.get(key);
    if (!index) {
      index = [];
      this.#storage.byDue.set(key, index);
    }
    return index;
  }

  #key(stream: string, name: string): string {
    return `${this.#namespace}\u0000${stream}\u0000${name}`;
  }
}

/** First index whose entry sorts at or after `entry` by (dueAt, key). */
function position(index: readonly Entry[], entry: Entry): number {
  let low = 0;
  let high = index.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const other = index[mid] as Entry;
    if (
      other.record.dueAt < entry.record.dueAt ||
      (other.record.dueAt === entry.record.dueAt && other.key < entry.key)
    ) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low;
}
