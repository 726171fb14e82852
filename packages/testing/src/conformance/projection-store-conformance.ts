import type { EventStore, JsonValue, ProjectionStore } from "@granary/core";
import { describe, expect, it } from "vitest";
import { makeEvents, rejectionOf, uniqueNamespace } from "./fixtures.js";
import { useSuiteLifecycle } from "./suite-lifecycle.js";

/**
 * How the projection store conformance suite reaches a store: an event store and the projection
 * store beside it, on the same database (the suite appends events to check `headPosition`).
 * `open` may be called again after `close` and must reach the same data until the next `reset`.
 */
export interface ProjectionStoreFactory {
  open(options: { readonly namespace: string }): Promise<{ events: EventStore; projections: ProjectionStore }>;
  reset?(): Promise<void>;
  teardown?(): Promise<void>;
  /** Whether `commit` supports `transaction` (SQLite, PostgreSQL). */
  readonly transactions?: boolean;
}

const docs = (entries: [string, JsonValue | null][]): Map<string, JsonValue | null> => new Map(entries);

/**
 * Registers the ProjectionStore conformance suite (vitest): atomic documents + checkpoint,
 * fencing by epoch, the expected-position check, isolation, paging, head position, durability.
 *
 * @example
 * projectionStoreConformance("SqliteProjectionStore", {
 *   reset: async () => { path = newTempFile(); },
 *   open: async ({ namespace }) => {
 *     const events = new SqliteEventStore({ path, namespace });
 *     return { events, projections: events.openProjectionStore() };
 *   },
 * });
 */
export function projectionStoreConformance(name: string, factory: ProjectionStoreFactory): void {
  describe(`${name} - ProjectionStore conformance`, () => {
    const suite = useSuiteLifecycle(
      factory,
      (namespace) => factory.open({ namespace }),
      async (pair: { events: EventStore; projections: ProjectionStore }) => {
        await pair.projections.close();
        await pair.events.close();
      },
    );
    const open = (namespace?: string) => suite.open(namespace);

    it("projection store - a new projection has no checkpoint and no documents", async () => {
      const { projections } = await open();

      expect(await projections.checkpoint("p@v1")).toBeUndefined();
      expect(await projections.getDocument("p@v1", "k")).toBeUndefined();
      expect(await projections.countDocuments("p@v1")).toBe(0);
      expect(await projections.listDocuments("p@v1", { limit: 10 })).toEqual({ items: [], next: undefined });
      expect(projections.namespace).toBe(suite.namespace);
    });

    it("projection store - a commit writes documents and moves the checkpoint together", async () => {
      const { projections } = await open();

      await projections.commit("p@v1", {
        expectedPosition: 0,
        position: 7,
        epoch: 3,
        documents: docs([
          ["a", { n: 1, tags: ["x", "ü"], nested: { ok: true, none: null } }],
          ["b", 2],
        ]),
      });

      expect(await projections.checkpoint("p@v1")).toEqual({ position: 7, epoch: 3, ready: false });
      expect(await projections.getDocument("p@v1", "a")).toEqual({
        n: 1,
        tags: ["x", "ü"],
        nested: { ok: true, none: null },
      });
      expect(Object.fromEntries(await projections.getDocuments("p@v1", ["a", "b", "missing"]))).toEqual({
        a: { n: 1, tags: ["x", "ü"], nested: { ok: true, none: null } },
        b: 2,
      });
      expect(await projections.countDocuments("p@v1")).toBe(2);
    });

    it("projection store - null deletes a document; a later commit replaces one", async () => {
      const { projections } = await open();
      await projections.commit("p@v1", {
        expectedPosition: 0,
        position: 1,
        documents: docs([
          ["a", 1],
          ["b", 1],
        ]),
      });

      await projections.commit("p@v1", {
        expectedPosition: 1,
        position: 2,
        documents: docs([
          ["a", null],
          ["b", 5],
        ]),
      });

      expect(await projections.getDocument("p@v1", "a")).toBeUndefined();
      expect(await projections.getDocument("p@v1", "b")).toBe(5);
      expect(await projections.countDocuments("p@v1")).toBe(1);
    });

    it("projection store - a commit from another position is a CheckpointConflict and changes nothing", async () => {
      const { projections } = await open();
      await projections.commit("p@v1", { expectedPosition: 0, position: 5, documents: docs([["a", 1]]) });

      const error = await rejectionOf(
        projections.commit("p@v1", { expectedPosition: 3, position: 9, documents: docs([["a", 2]]) }),
      );

      expect(error.code).toBe("CHECKPOINT_CONFLICT");
      expect(error.data).toMatchObject({ projection: "p@v1", expectedPosition: 3, actualPosition: 5 });
      expect(await projections.getDocument("p@v1", "a")).toBe(1);
      expect((await projections.checkpoint("p@v1"))?.position).toBe(5);
    });

    it("projection store - a commit with an older epoch is fenced and changes nothing", async () => {
      const { projections } = await open();
      await projections.commit("p@v1", { expectedPosition: 0, position: 5, epoch: 10, documents: docs([["a", 1]]) });

      const error = await rejectionOf(
        projections.commit("p@v1", { expectedPosition: 5, position: 6, epoch: 9, documents: docs([["a", 2]]) }),
      );

      expect(error.code).toBe("PROJECTION_FENCED");
      expect(error.data).toMatchObject({ projection: "p@v1", epoch: 9, currentEpoch: 10 });
      expect(await projections.getDocument("p@v1", "a")).toBe(1);
      expect(await projections.checkpoint("p@v1")).toEqual({ position: 5, epoch: 10, ready: false });
    });

    it("projection store - a newer epoch takes over from the stored position", async () => {
      const { projections } = await open();
      await projections.commit("p@v1", { expectedPosition: 0, position: 5, epoch: 10 });

      await projections.commit("p@v1", { expectedPosition: 5, position: 8, epoch: 11, documents: docs([["a", 3]]) });

      expect(await projections.checkpoint("p@v1")).toEqual({ position: 8, epoch: 11, ready: false });
    });

    it("projection store - ready is sticky once set", async () => {
      const { projections } = await open();
      await projections.commit("p@v1", { expectedPosition: 0, position: 5, ready: true });

      await projections.commit("p@v1", { expectedPosition: 5, position: 6 });

      expect((await projections.checkpoint("p@v1"))?.ready).toBe(true);
      expect((await projections.checkpoints()).get("p@v1")).toEqual({ position: 6, epoch: 0, ready: true });
    });

    it("projection store - invalid commits are refused with INVALID_ARGUMENT", async () => {
      const { projections } = await open();

      const backwards = await rejectionOf(projections.commit("p@v1", { expectedPosition: 5, position: 4 }));
      const badEpoch = await rejectionOf(projections.commit("p@v1", { expectedPosition: 0, position: 1, epoch: -1 }));

      expect(backwards.code).toBe("INVALID_ARGUMENT");
      expect(badEpoch.code).toBe("INVALID_ARGUMENT");
      expect(await projections.checkpoint("p@v1")).toBeUndefined();
    });

    it("projection store - projections and namespaces are isolated", async () => {
      const { projections } = await open();
      const { projections: other } = await open(uniqueNamespace());
      await projections.commit("p@v1", { expectedPosition: 0, position: 1, documents: docs([["a", 1]]) });
      await projections.commit("p@v2", { expectedPosition: 0, position: 2, documents: docs([["a", 2]]) });

      expect(await projections.getDocument("p@v1", "a")).toBe(1);
      expect(await projections.getDocument("p@v2", "a")).toBe(2);
      expect(await other.getDocument("p@v1", "a")).toBeUndefined();
      expect(await other.checkpoint("p@v1")).toBeUndefined();
      expect((await other.checkpoints()).size).toBe(0);
      expect([...(await projections.checkpoints()).keys()].sort()).toEqual(["p@v1", "p@v2"]);
    });

    it("projection store - list pages through every document once, in key order, with a cursor", async () => {
      const { projections } = await open();
      const keys = Array.from({ length: 25 }, (_, i) => `k-${String(i).padStart(2, "0")}`);
      await projections.commit("p@v1", {
        expectedPosition: 0,
        position: 1,
        documents: new Map(keys.map((k, i) => [k, { i }])),
      });

      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await projections.listDocuments("p@v1", { limit: 10, ...(after === undefined ? {} : { after }) });
        for (const item of page.items) {
          seen.push(item.key);
          expect(item.document).toEqual({ i: keys.indexOf(item.key) });
        }
        after = page.next;
        pages++;
      } while (after !== undefined);

      expect(seen).toEqual(keys);
      expect(pages).toBe(3);
      const prefixed = await projections.listDocuments("p@v1", { limit: 100, prefix: "k-1" });
      expect(prefixed.items.map((i) => i.key)).toEqual(keys.filter((k) => k.startsWith("k-1")));
    });

    it("projection store - drop removes documents and checkpoint of one projection only", async () => {
      const { projections } = await open();
      await projections.commit("p@v1", { expectedPosition: 0, position: 1, documents: docs([["a", 1]]) });
      await projections.commit("p@v2", { expectedPosition: 0, position: 1, documents: docs([["a", 2]]) });

      await projections.drop("p@v1");

      expect(await projections.checkpoint("p@v1")).toBeUndefined();
      expect(await projections.countDocuments("p@v1")).toBe(0);
      expect(await projections.getDocument("p@v2", "a")).toBe(2);
    });

    it("projection store - headPosition is the last readable position of the namespace", async () => {
      const { events, projections } = await open();
      const { events: otherEvents, projections: other } = await open(uniqueNamespace());
      expect(await projections.headPosition()).toBe(0);

      await events.append("S/1", 0, makeEvents("S/1", 0, 3));
      await otherEvents.append("S/1", 0, makeEvents("S/1", 0, 1));
      const all = await events.readAll(0, 100);

      expect(await projections.headPosition()).toBe(all.at(-1)?.position);
      expect(await other.headPosition()).toBe((await otherEvents.readAll(0, 100)).at(-1)?.position);
    });

    it("projection store - documents and checkpoint survive close and reopen", async () => {
      const { projections } = await open();
      await projections.commit("p@v1", { expectedPosition: 0, position: 4, epoch: 2, documents: docs([["a", 1]]) });
      await suite.closeAll();

      const { projections: reopened } = await open();

      expect(await reopened.checkpoint("p@v1")).toEqual({ position: 4, epoch: 2, ready: false });
      expect(await reopened.getDocument("p@v1", "a")).toBe(1);
    });

    it("projection store - concurrent commits from one position: exactly one wins", async () => {
      const { projections } = await open();
      await projections.commit("p@v1", { expectedPosition: 0, position: 1, documents: docs([["a", 0]]) });

      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          projections.commit("p@v1", { expectedPosition: 1, position: 2, documents: docs([["a", i + 1]]) }),
        ),
      );

      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect((await projections.checkpoint("p@v1"))?.position).toBe(2);
    });

    if (factory.transactions) {
      it("projection store - a transaction callback that throws rolls back documents and checkpoint", async () => {
        const { projections } = await open();

        const error = await rejectionOf(
          projections.commit("p@v1", {
            expectedPosition: 0,
            position: 3,
            documents: docs([["a", 1]]),
            transaction: () => {
              throw Object.assign(new Error("handler failed"), { code: "X", retryable: false });
            },
          }),
        );

        expect(error.message).toContain("handler failed");
        expect(await projections.checkpoint("p@v1")).toBeUndefined();
        expect(await projections.getDocument("p@v1", "a")).toBeUndefined();
      });
    } else {
      it("projection store - a commit with a transaction callback is refused (no transactions here)", async () => {
        const { projections } = await open();

        await expect(
          projections.commit("p@v1", { expectedPosition: 0, position: 1, transaction: () => {} }),
        ).rejects.toThrow(/transaction/);
        expect(await projections.checkpoint("p@v1")).toBeUndefined();
      });
    }
  });
}
