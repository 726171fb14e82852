import type { MissedTickPolicy } from "../schedules/schedule-options.js";

/**
 * One stored reminder. `(stream, name)` identifies it; `registrationId` changes with every
 * registration, so a tick of a replaced or cancelled registration can never advance the new one.
 */
export interface ReminderRecord {
  /** The actor's stream name, `<Type>/<id>`. */
  readonly stream: string;
  readonly name: string;
  /** Unique per registration (a ULID); part of every tick id. */
  readonly registrationId: string;
  /** Epoch milliseconds when the next tick is due: the due-time index orders by it. */
  readonly dueAt: number;
  /** Milliseconds between ticks; 0 for a one-shot reminder. */
  readonly periodMs: number;
  readonly missed: MissedTickPolicy;
  /**
   * Which share of the reminder service holds it (0..partitions-1, computed by the runtime from the
   * stream). One silo at a time polls and fires a partition.
   */
  readonly partition: number;
  /** W3C traceparent of the call that registered it, so each tick's span can link to it. */
  readonly traceparent?: string;
}

/** A partition a silo polls, with the fencing epoch it was granted when it took the partition. */
export interface PartitionClaim {
  readonly partition: number;
  readonly epoch: number;
}

export interface DueReminders {
  /** Due reminders of the claimed partitions, earliest first. */
  readonly due: ReminderRecord[];
  /** Claimed partitions whose epoch is older than one the store has seen: another silo took them. */
  readonly fenced: number[];
}

/** What `advance` did. */
export type AdvanceOutcome =
  /** The reminder moved to its next tick (or, with no next tick, was deleted). */
  | "advanced"
  /** The reminder was replaced, cancelled or already advanced: nothing changed. */
  | "changed"
  /** The partition's epoch moved past the caller's: another silo owns it now; nothing changed. */
  | "fenced";

/**
 * Durable reminders, kept beside the events, with an index by due time. Invariants:
 * - `upsert` replaces the reminder of the same (stream, name): registering again is idempotent.
 * - `claimDue` and `advance` are fenced per partition like appends: the store remembers the highest
 *   epoch that claimed each partition and refuses older ones, so a silo that was paused while its
 *   partition moved cannot fire or advance anything after it wakes.
 * - `advance` is a compare-and-set on (registrationId, dueAt): a tick can move its reminder at most
 *   once, and never one that was replaced or cancelled while the tick ran.
 * - Listing and cancelling by stream never scans other streams; `claimDue` reads only due entries.
 * - Namespaces are isolated, as in the event store.
 */
export interface ReminderStore {
  /** Stores the reminder, replacing one with the same (stream, name). Durable when it resolves. */
  upsert(reminder: ReminderRecord): Promise<void>;
  get(stream: string, name: string): Promise<ReminderRecord | undefined>;
  /** The stream's reminders, by name. */
  list(stream: string): Promise<ReminderRecord[]>;
  /** Removes one reminder; false when there was none. */
  cancel(stream: string, name: string): Promise<boolean>;
  /** Removes every reminder of the stream (purge); returns how many. */
  cancelAll(stream: string): Promise<number>;
  /**
   * Raises each claimed partition's epoch to the given one (refusing partitions whose stored epoch
   * is higher: `fenced`) and returns the reminders of the other partitions due at or before
   * `until`, earliest first, at most `limit`.
   */
  claimDue(claims: readonly PartitionClaim[], until: number, limit: number): Promise<DueReminders>;
  /**
   * After a tick fired: moves the reminder to `nextDueAt`, or deletes it when undefined, if it is
   * still registration `registrationId` due at `dueAt` and `epoch` is still the partition's.
   */
  advance(
    reminder: Pick<ReminderRecord, "stream" | "name" | "registrationId" | "dueAt" | "partition">,
    nextDueAt: number | undefined,
    epoch: number,
  ): Promise<AdvanceOutcome>;
  /**
   * The highest epoch that claimed `partition` (what `claimDue` remembers); 0 when none has. Whoever
   * issues partition epochs without a shared directory (a standalone silo) starts above it, so a
   * clock that went back cannot fence every partition until it catches up.
   */
  partitionEpoch(partition: number): Promise<number>;
  close(): Promise<void>;
}
