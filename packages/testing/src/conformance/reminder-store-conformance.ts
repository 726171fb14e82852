import type { ReminderRecord, ReminderStore } from "@granary/core";
import { describe, expect, it } from "vitest";
import { rejectionOf } from "./fixtures.js";
import { useStoreSuite } from "./suite-lifecycle.js";

/** How the reminder store conformance suite reaches a store; same contract as the event store factory. */
export interface ReminderStoreFactory {
  /** Opens a store on the current database; `open` again after `close` must see the same data. */
  open(options: { readonly namespace: string }): Promise<ReminderStore>;
  reset?(): Promise<void>;
  teardown?(): Promise<void>;
}

const T0 = Date.UTC(2030, 0, 1);

function reminder(stream: string, name: string, overrides: Partial<ReminderRecord> = {}): ReminderRecord {
  return {
    stream,
    name,
    registrationId: `reg-${stream}-${name}`,
    dueAt: T0,
    periodMs: 0,
    missed: "fire-once",
    partition: 3,
    ...overrides,
  };
}

/**
 * Registers the ReminderStore conformance suite (vitest): replace by (stream, name), listing and
 * cancelling by stream, the due-time index, fencing of partitions by epoch and reading it back, compare-and-set
 * advance, durability and namespace isolation.
 *
 * @example
 * reminderStoreConformance("MemoryReminderStore", {
 *   open: async ({ namespace }) => new MemoryReminderStore({ namespace, storage }),
 * });
 */
export function reminderStoreConformance(name: string, factory: ReminderStoreFactory): void {
  describe(`${name} - ReminderStore conformance`, () => {
    const suite = useStoreSuite(factory);
    const open = (namespace?: string): Promise<ReminderStore> => suite.open(namespace);

    it("reminders - get returns exactly what was stored, with and without a traceparent", async () => {
      const store = await open();
      const traced = reminder("Cart/1", "expire", {
        periodMs: 60_000,
        missed: "fire-all",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      });
      const plain = reminder("Cart/1", "nudge", { dueAt: 4_102_444_800_123, missed: "skip" });

      await store.upsert(traced);
      await store.upsert(plain);

      expect(await store.get("Cart/1", "expire")).toEqual(traced);
      expect(await store.get("Cart/1", "nudge")).toEqual(plain);
      expect(await store.get("Cart/1", "other")).toBeUndefined();
    });

    it("reminders - registering the same name again replaces the reminder", async () => {
      const store = await open();
      await store.upsert(reminder("Cart/1", "expire"));

      const replacement = reminder("Cart/1", "expire", { registrationId: "reg-2", dueAt: T0 + 5_000, periodMs: 1_000 });
      await store.upsert(replacement);

      expect(await store.list("Cart/1")).toEqual([replacement]);
      const { due } = await store.claimDue([{ partition: 3, epoch: 1 }], T0 + 10_000, 10);
      expect(due).toEqual([replacement]);
    });

    it("reminders - list returns the stream's reminders by name, and no other stream's", async () => {
      const store = await open();
      await store.upsert(reminder("Cart/1", "b"));
      await store.upsert(reminder("Cart/1", "a"));
      await store.upsert(reminder("Cart/10", "a"));
      await store.upsert(reminder("Cart/2", "a"));

      expect((await store.list("Cart/1")).map((r) => `${r.stream}:${r.name}`)).toEqual(["Cart/1:a", "Cart/1:b"]);
      expect(await store.list("Cart/3")).toEqual([]);
    });

    it("reminders - cancel removes one reminder, which is then never due", async () => {
      const store = await open();
      await store.upsert(reminder("Cart/1", "a"));
      await store.upsert(reminder("Cart/1", "b"));

      expect(await store.cancel("Cart/1", "a")).toBe(true);
      expect(await store.cancel("Cart/1", "a")).toBe(false);

      expect((await store.list("Cart/1")).map((r) => r.name)).toEqual(["b"]);
      const { due } = await store.claimDue([{ partition: 3, epoch: 1 }], T0, 10);
      expect(due.map((r) => r.name)).toEqual(["b"]);
    });

    it("reminders - cancelAll removes every reminder of the stream and leaves streams sharing its prefix", async () => {
      const store = await open();
      await store.upsert(reminder("Cart/1", "a"));
      await store.upsert(reminder("Cart/1", "b"));
      await store.upsert(reminder("Cart/10", "a"));

      expect(await store.cancelAll("Cart/1")).toBe(2);
      expect(await store.cancelAll("Cart/1")).toBe(0);

      expect(await store.list("Cart/1")).toEqual([]);
      expect((await store.list("Cart/10")).length).toBe(1);
      const { due } = await store.claimDue([{ partition: 3, epoch: 1 }], T0, 10);
      expect(due.map((r) => r.stream)).toEqual(["Cart/10"]);
    });

    it("reminders - claimDue returns what is due by `until` in claimed partitions, earliest first, at most `limit`", async () => {
      const store = await open();
      await store.upsert(reminder("A/1", "late", { dueAt: T0 + 3_000, partition: 1 }));
      await store.upsert(reminder("A/2", "early", { dueAt: T0 + 1_000, partition: 2 }));
      await store.upsert(reminder("A/3", "middle", { dueAt: T0 + 2_000, partition: 1 }));
      await store.upsert(reminder("A/4", "future", { dueAt: T0 + 9_000, partition: 1 }));
      await store.upsert(reminder("A/5", "unclaimed", { dueAt: T0, partition: 7 }));
      const claims = [
        { partition: 1, epoch: 1 },
        { partition: 2, epoch: 1 },
      ];

      const all = await store.claimDue(claims, T0 + 3_000, 10);
      const two = await store.claimDue(claims, T0 + 3_000, 2);

      expect(all).toEqual({ due: expect.any(Array), fenced: [] });
      expect(all.due.map((r) => r.name)).toEqual(["early", "middle", "late"]);
      expect(two.due.map((r) => r.name)).toEqual(["early", "middle"]);
      expect((await store.claimDue(claims, T0 + 999, 10)).due).toEqual([]);
    });

    it("reminders - a claim with an older epoch than one the store has seen is fenced and reads nothing", async () => {
      const store = await open();
      await store.upsert(reminder("A/1", "r", { partition: 1 }));
      await store.upsert(reminder("A/2", "r", { partition: 2 }));
      await store.claimDue([{ partition: 1, epoch: 10 }], T0, 10);

      const stale = await store.claimDue(
        [
          { partition: 1, epoch: 9 },
          { partition: 2, epoch: 9 },
        ],
        T0,
        10,
      );
      expect(stale.fenced).toEqual([1]);
      expect(stale.due.map((r) => r.stream)).toEqual(["A/2"]);

      expect((await store.claimDue([{ partition: 1, epoch: 10 }], T0, 10)).fenced).toEqual([]);
      expect((await store.claimDue([{ partition: 1, epoch: 11 }], T0, 10)).fenced).toEqual([]);
      expect((await store.claimDue([{ partition: 1, epoch: 10 }], T0, 10)).fenced).toEqual([1]);
    });

    it("reminders - partitionEpoch is the highest epoch that claimed the partition: 0 before any claim, never lowered by a fenced one, kept on re-open, per namespace", async () => {
      const store = await open();
      const other = await open(`${suite.namespace}-other`);
      expect(await store.partitionEpoch(1)).toBe(0);

      await store.claimDue([{ partition: 1, epoch: 1_800_000_000_000 }], T0, 10);
      await store.claimDue([{ partition: 1, epoch: 1_799_999_999_999 }], T0, 10);
      await store.claimDue([{ partition: 2, epoch: 5 }], T0, 10);

      expect(await store.partitionEpoch(1)).toBe(1_800_000_000_000);
      expect(await store.partitionEpoch(2)).toBe(5);
      expect(await store.partitionEpoch(3)).toBe(0);
      expect(await other.partitionEpoch(1)).toBe(0);
      await store.close();
      expect(await (await open()).partitionEpoch(1)).toBe(1_800_000_000_000);
    });

    it("reminders - advance moves a reminder to its next tick once; a second advance of the same tick changes nothing", async () => {
      const store = await open();
      const stored = reminder("A/1", "r", { periodMs: 1_000, partition: 1 });
      await store.upsert(stored);
      await store.claimDue([{ partition: 1, epoch: 5 }], T0, 10);

      expect(await store.advance(stored, T0 + 1_000, 5)).toBe("advanced");
      expect(await store.advance(stored, T0 + 1_000, 5)).toBe("changed");

      expect(await store.get("A/1", "r")).toEqual({ ...stored, dueAt: T0 + 1_000 });
      expect((await store.claimDue([{ partition: 1, epoch: 5 }], T0 + 500, 10)).due).toEqual([]);
    });

    it("reminders - advance without a next tick deletes the reminder", async () => {
      const store = await open();
      const stored = reminder("A/1", "r", { partition: 1 });
      await store.upsert(stored);

      expect(await store.advance(stored, undefined, 1)).toBe("advanced");

      expect(await store.get("A/1", "r")).toBeUndefined();
      expect((await store.claimDue([{ partition: 1, epoch: 1 }], T0 + 10_000, 10)).due).toEqual([]);
    });

    it("reminders - advance of a tick of a replaced or cancelled registration changes nothing", async () => {
      const store = await open();
      const first = reminder("A/1", "r", { partition: 1, periodMs: 1_000 });
      await store.upsert(first);
      const second = { ...first, registrationId: "reg-second" };
      await store.upsert(second);

      expect(await store.advance(first, T0 + 1_000, 1)).toBe("changed");
      expect(await store.get("A/1", "r")).toEqual(second);

      await store.cancel("A/1", "r");
      expect(await store.advance(second, T0 + 1_000, 1)).toBe("changed");
      expect(await store.get("A/1", "r")).toBeUndefined();
    });

    it("reminders - advance with an epoch older than the partition's is fenced and changes nothing", async () => {
      const store = await open();
      const stored = reminder("A/1", "r", { partition: 1, periodMs: 1_000 });
      await store.upsert(stored);
      await store.claimDue([{ partition: 1, epoch: 7 }], T0, 10);

      expect(await store.advance(stored, T0 + 1_000, 6)).toBe("fenced");
      expect(await store.advance(stored, undefined, 6)).toBe("fenced");

      expect(await store.get("A/1", "r")).toEqual(stored);
    });

    it("reminders - a stored reminder and partition epochs survive closing and re-opening the store", async () => {
      const store = await open();
      const stored = reminder("A/1", "r", { partition: 1 });
      await store.upsert(stored);
      await store.claimDue([{ partition: 1, epoch: 4 }], T0, 10);
      await store.close();

      const reopened = await open();

      expect(await reopened.get("A/1", "r")).toEqual(stored);
      expect((await reopened.claimDue([{ partition: 1, epoch: 3 }], T0, 10)).fenced).toEqual([1]);
    });

    it("reminders - namespaces are isolated: reminders and partition epochs", async () => {
      const tenantA = await open();
      const tenantB = await open(`${suite.namespace}-other`);
      await tenantA.upsert(reminder("A/1", "r", { partition: 1 }));
      await tenantA.claimDue([{ partition: 1, epoch: 50 }], T0, 10);

      expect(await tenantB.list("A/1")).toEqual([]);
      const seenByB = await tenantB.claimDue([{ partition: 1, epoch: 1 }], T0, 10);
      expect(seenByB).toEqual({ due: [], fenced: [] });
      expect(await tenantB.cancelAll("A/1")).toBe(0);
      expect((await tenantA.list("A/1")).length).toBe(1);
    });

    it("reminders - a malformed reminder is refused with INVALID_ARGUMENT", async () => {
      const store = await open();

      for (const bad of [
        reminder("", "r"),
        reminder("A/1", ""),
        reminder("A/1", "r", { dueAt: Number.NaN }),
        reminder("A/1", "r", { periodMs: -1 }),
        reminder("A/1", "r", { missed: "sometimes" as never }),
        reminder("A/1", "r", { partition: 1.5 }),
      ]) {
        expect((await rejectionOf(store.upsert(bad))).code).toBe("INVALID_ARGUMENT");
      }
      expect(await store.list("A/1")).toEqual([]);
    });

    it("reminders - 600 reminders over many partitions come back due in order, batch by batch", async () => {
      const store = await open();
      const partitions = 16;
      const all = Array.from({ length: 600 }, (_, i) =>
        reminder(`Bulk/${i}`, "r", { dueAt: T0 + ((i * 7_919) % 600), partition: i % partitions }),
      );
      for (let i = 0; i < all.length; i += 100) await Promise.all(all.slice(i, i + 100).map((r) => store.upsert(r)));
      const claims = Array.from({ length: partitions }, (_, partition) => ({ partition, epoch: 1 }));

      const fired: number[] = [];
      for (;;) {
        const { due } = await store.claimDue(claims, T0 + 10_000, 250);
        if (due.length === 0) break;
        expect(due.map((r) => r.dueAt)).toEqual([...due.map((r) => r.dueAt)].sort((a, b) => a - b));
        const outcomes = await Promise.all(due.map((r) => store.advance(r, undefined, 1)));
        expect(new Set(outcomes)).toEqual(new Set(["advanced"]));
        fired.push(...due.map((r) => r.dueAt));
      }

      expect(fired.length).toBe(600);
      expect(fired).toEqual([...fired].sort((a, b) => a - b));
    });
  });
}
