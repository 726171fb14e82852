import { ErrorCode, type SnapshotStore } from "@granary/core";
import { describe, expect, it } from "vitest";
import type { SnapshotStoreFactory } from "./factory.js";
import { rejectionOf } from "./fixtures.js";
import { snapshotAt, snapshotPurgeTests, snapshotRetentionTests } from "./snapshot-store/retention-and-purge.js";
import { useStoreSuite } from "./suite-lifecycle.js";

/**
 * Registers the SnapshotStore conformance suite (vitest): newest wins, older snapshots kept for
 * loadAtOrBelow, delete, purge refusing later saves, durability and namespace isolation.
 *
 * @example
 * snapshotStoreConformance("MemorySnapshotStore", {
 *   open: async ({ namespace }) => new MemorySnapshotStore({ namespace, storage }),
 * });
 */
export function snapshotStoreConformance(name: string, factory: SnapshotStoreFactory): void {
  describe(`${name} - SnapshotStore conformance`, () => {
    const suite = useStoreSuite(factory);
    const open = (namespace?: string): Promise<SnapshotStore> => suite.open(namespace);

    it("snapshots - load returns exactly what was saved", async () => {
      const store = await open();
      const saved = snapshotAt("Account/1", 10, { snapshotVersion: 4 });

      await store.save(saved);

      expect(await store.load("Account/1")).toEqual(saved);
    });

    it.each([
      ["a lone surrogate", "Account/a\uD800"],
      ["NUL", "Account/a\u0000"],
      ["10 KB", `Account/${"x".repeat(10_240)}`],
    ])(
      "snapshots - a stream name with %s is refused with INVALID_ARGUMENT by save, load and delete",
      async (_, stream) => {
        const store = await open();
        for (const attempt of [
          () => store.save(snapshotAt(stream, 1)),
          () => store.load(stream),
          () => store.delete(stream),
        ]) {
          expect(await rejectionOf(attempt())).toMatchObject({ code: ErrorCode.InvalidArgument });
        }
      },
    );

    it.each([
      ["a lone surrogate", { name: "a\uDBFF" }],
      ["NUL", { name: "a\u0000" }],
      ["a Map", { m: new Map() }],
    ])("snapshots - a state with %s is refused with INVALID_EVENT and nothing is stored", async (_, state) => {
      const store = await open();
      const error = await rejectionOf(store.save(snapshotAt("Account/s", 1, { state: state as never })));
      expect(error).toMatchObject({ code: ErrorCode.InvalidEvent });
      expect(await store.load("Account/s")).toBeUndefined();
    });

    it("snapshots - load of a stream without a snapshot is undefined", async () => {
      const store = await open();
      await store.save(snapshotAt("Account/1", 1));

      expect(await store.load("Account/2")).toBeUndefined();
    });

    it("snapshots - a save with a newer version replaces the stored snapshot", async () => {
      const store = await open();
      await store.save(snapshotAt("Account/1", 10));

      await store.save(snapshotAt("Account/1", 20));

      expect((await store.load("Account/1"))?.version).toBe(20);
    });

    it("snapshots - a save with an older version does not replace the newest", async () => {
      const store = await open();
      const newest = snapshotAt("Account/1", 20);
      await store.save(newest);

      await store.save(snapshotAt("Account/1", 10, { snapshotVersion: 9 }));

      expect(await store.load("Account/1")).toEqual(newest);
    });

    it("snapshots - load returns the newest snapshot whatever its snapshotVersion", async () => {
      const store = await open();
      await store.save(snapshotAt("Account/1", 5, { snapshotVersion: 2 }));

      await store.save(snapshotAt("Account/1", 6, { snapshotVersion: 1 }));

      expect(await store.load("Account/1")).toMatchObject({ version: 6, snapshotVersion: 1 });
    });

    it("snapshots - delete removes the stream's snapshot and leaves others", async () => {
      const store = await open();
      await store.save(snapshotAt("Account/1", 5));
      await store.save(snapshotAt("Account/2", 5));

      await store.delete("Account/1");

      expect(await store.load("Account/1")).toBeUndefined();
      expect((await store.load("Account/2"))?.version).toBe(5);
      await store.save(snapshotAt("Account/1", 1));
      expect((await store.load("Account/1"))?.version).toBe(1);
    });

    it("snapshots - mutating a loaded snapshot does not change the stored one", async () => {
      const store = await open();
      await store.save(snapshotAt("Account/1", 5));
      const loaded = await store.load("Account/1");
      try {
        (loaded?.state as Record<string, unknown>).balance = -1;
      } catch {
        // Frozen results are fine too.
      }

      expect((await store.load("Account/1"))?.state).toMatchObject({ balance: 50 });
    });

    it("snapshots - a saved snapshot survives closing and re-opening the store", async () => {
      const store = await open();
      const saved = snapshotAt("Account/1", 7);
      await store.save(saved);
      await store.close();

      const reopened = await open();

      expect(await reopened.load("Account/1")).toEqual(saved);
    });

    it("snapshots - namespaces are isolated: the same stream name holds separate snapshots", async () => {
      const tenantA = await open();
      const tenantB = await open(`${suite.namespace}-other`);
      await tenantA.save(snapshotAt("Account/1", 9));

      expect(await tenantB.load("Account/1")).toBeUndefined();
      await tenantB.save(snapshotAt("Account/1", 2));
      await tenantB.delete("Account/1");
      expect((await tenantA.load("Account/1"))?.version).toBe(9);
    });

    snapshotRetentionTests(open);
    snapshotPurgeTests(open, () => suite.namespace);
  });
}
