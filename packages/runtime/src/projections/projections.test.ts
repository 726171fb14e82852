import {
  DocumentProjection,
  MemoryEventStorage,
  MemoryEventStore,
  MemorySnapshotStore,
  type ProjectedEvent,
  type ProjectionClass,
} from "@granary/core";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { Cart, type CartEvent, CartLog, CheckoutHandler, type SkuCounts, SkuStats } from "../__fixtures__/cart.js";
import { Silo } from "../silo/silo.js";

const silent = pino({ level: "silent" });
const silos: Silo[] = [];
let storage = new MemoryEventStorage();

async function startSilo(
  projections: readonly ProjectionClass[] = [SkuStats, CartLog],
  batchSize = 1_000,
): Promise<Silo> {
  const silo = await Silo.start({
    actors: [Cart],
    projections,
    store: new MemoryEventStore({ storage }),
    snapshots: new MemorySnapshotStore(),
    logger: silent,
    readSide: { headIntervalMs: 20, ownershipCheckMs: 20, batchSize, dropOldVersionsAfterMs: 300 },
  });
  silos.push(silo);
  return silo;
}

beforeEach(() => {
  storage = new MemoryEventStorage();
  CheckoutHandler.handled = [];
  CheckoutHandler.purged = [];
  CheckoutHandler.failures = 0;
  CheckoutHandler.failUntil = 0;
});
afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

describe("document projections", () => {
  it("catch-up then live: history written before the silo had the projection is folded, then new commits", async () => {
    const before = await Silo.start({ actors: [Cart], store: new MemoryEventStore({ storage }), logger: silent });
    await before.get(Cart, "c1").add("sku-1");
    await before.get(Cart, "c1").remove("sku-1");
    await before.get(Cart, "c2").add("sku-1");
    await before.stop();

    const silo = await startSilo();
    await silo.get(Cart, "c3").add("sku-1");

    expect(await silo.query(SkuStats).get("sku-1", { waitForLatest: true })).toEqual({ added: 3, removed: 1 });
    expect(await silo.query(SkuStats).get("sku-unknown")).toBeUndefined();
  });

  it("across a silo restart: no gap and no duplicate (every event position once, in order)", async () => {
    const first = await startSilo();
    for (let i = 0; i < 20; i++) await first.get(Cart, `c${i % 3}`).add(`sku-${i % 4}`);
    await first.query(CartLog).get("Cart/c0", { waitForLatest: true });
    await first.stop();
    const appendedWhileDown = await new MemoryEventStore({ storage }).append("Cart/c0", 7, [
      {
        id: "01JDOWN000000000000000000A",
        type: "ItemAdded",
        stream: "Cart/c0",
        version: 8,
        schemaVersion: 1,
        data: { sku: "sku-0", quantity: 1 },
        metadata: { correlationId: "x", causationId: "x", commandId: "x" },
        timestamp: new Date().toISOString(),
      },
    ]);

    const second = await startSilo();
    for (let i = 0; i < 10; i++) await second.get(Cart, `c${i % 3}`).remove(`sku-${i % 4}`);

    const all = await new MemoryEventStore({ storage }).readAll(0, 10_000);
    const seen: number[] = [];
    for (const cart of ["c0", "c1", "c2"]) {
      const log = await second.query(CartLog).get(`Cart/${cart}`, { waitForLatest: true });
      seen.push(...(log?.positions ?? []));
    }
    expect(seen.sort((a, b) => a - b)).toEqual(all.map((e) => e.position));
    expect(seen).toContain(appendedWhileDown.position);
  });

  it("read-your-writes: waitForLatest sees a write made just before, for every write", async () => {
    const silo = await startSilo();
    for (let i = 1; i <= 25; i++) {
      await silo.get(Cart, "c1").add("sku-ryw");
      const doc = await silo.query(SkuStats).get("sku-ryw", { waitForLatest: true });
      expect(doc?.added).toBe(i);
    }
  });

  it("read-your-writes on the projection's own silo answers a copy: changing it changes no later answer", async () => {
    const silo = await startSilo();
    await silo.get(Cart, "c1").add("sku-copy");
    const first = await silo.query(SkuStats).get("sku-copy", { waitForLatest: true });
    if (!first) throw new Error("expected a document");
    first.added = 99;
    expect(await silo.query(SkuStats).get("sku-copy", { waitForLatest: true })).toEqual({ added: 1, removed: 0 });
    expect(await silo.query(SkuStats).get("sku-copy")).toEqual({ added: 1, removed: 0 });
  });

  it("many read-your-writes queries waiting at once all see the write, with no listener-leak warning", async () => {
    const silo = await startSilo();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message);
    };
    process.on("warning", onWarning);
    try {
      for (let i = 1; i <= 5; i++) {
        await silo.get(Cart, "c1").add("sku-many");
        const docs = await Promise.all(
          Array.from({ length: 30 }, () => silo.query(SkuStats).get("sku-many", { waitForLatest: true })),
        );
        expect(docs.every((doc) => doc?.added === i)).toBe(true);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes("listeners"))).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("waitForLatest is bounded by the query timeout when the projection cannot catch up", async () => {
    const silo = await startSilo([]);
    await silo.get(Cart, "c1").add("sku-1");

    // SkuStats is not registered anywhere: nothing will ever process the event.
    const error = await silo
      .query(SkuStats)
      .get("sku-1", { waitForLatest: true, timeoutMs: 100 })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ code: "CALL_TIMEOUT" });
  });

  it("list pages with a cursor and count; queries are typed from the declaration", async () => {
    const silo = await startSilo();
    for (let i = 0; i < 12; i++) await silo.get(Cart, "c1").add(`sku-${String(i).padStart(2, "0")}`);
    await silo.query(SkuStats).count({ waitForLatest: true });

    const first = await silo.query(SkuStats).list({ limit: 5 });
    const second = await silo.query(SkuStats).list({ limit: 5, ...(first.next ? { after: first.next } : {}) });
    const third = await silo.query(SkuStats).list({ limit: 5, ...(second.next ? { after: second.next } : {}) });
    const filtered = await silo.query(SkuStats).list({ limit: 100, where: (_doc, key) => key.endsWith("1") });

    expectTypeOf(first.items[0]!.document).toEqualTypeOf<SkuCounts>();
    expect([...first.items, ...second.items, ...third.items].map((i) => i.key)).toEqual(
      Array.from({ length: 12 }, (_, i) => `sku-${String(i).padStart(2, "0")}`),
    );
    expect(third.next).toBeUndefined();
    expect(filtered.items.map((i) => i.key)).toEqual(["sku-01", "sku-11"]);
    expect(await silo.query(SkuStats).count()).toBe(12);
  });

  it("rebuild after a code change: built side by side from position 0 while queries answer from the old version, then swapped", async () => {
    const v1 = await startSilo([SkuStats]);
    for (let i = 0; i < 30; i++) await v1.get(Cart, `c${i}`).add("sku-1", 2);
    await v1.query(SkuStats).get("sku-1", { waitForLatest: true });
    await v1.stop();

    /** Version 2 counts quantities, not events; its handler is slow so the rebuild can be observed. */
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    class SkuStatsV2 extends DocumentProjection<SkuCounts & { quantity: number }, CartEvent> {
      static readonly projection = "sku-stats";
      static readonly version = 2;
      static readonly events = ["ItemAdded", "ItemRemoved"];
      key(event: ProjectedEvent<CartEvent>) {
        return "sku" in event.data ? event.data.sku : undefined;
      }
      initialDocument() {
        return { added: 0, removed: 0, quantity: 0 };
      }
      apply(doc: SkuCounts & { quantity: number }, event: ProjectedEvent<CartEvent>) {
        return event.type === "ItemAdded"
          ? { ...doc, added: doc.added + 1, quantity: doc.quantity + event.data.quantity }
          : { ...doc, removed: doc.removed + 1 };
      }
    }
    const gated = class extends SkuStatsV2 {
      override key(event: ProjectedEvent<CartEvent>) {
        if (event.position > 10) throw new Error("not yet");
        return super.key(event);
      }
    };
    Object.defineProperty(gated, "retry", { value: { attempts: 1_000, initialDelayMs: 5, maxDelayMs: 5 } });
    const v2 = await startSilo([gated], 5);

    // While version 2 is stuck at position 10, queries answer from version 1.
    await vi.waitFor(async () => {
      const status = (await v2.projections.status())[0];
      expect(status?.position).toBe(10);
    });
    const during = await v2.query(SkuStatsV2).get("sku-1");
    expect(during).toEqual({ added: 30, removed: 0 });
    const progress = (await v2.projections.status())[0];
    expect(progress).toMatchObject({ name: "sku-stats", version: 2, state: "catching-up", head: 30, ready: false });
    expect(progress?.lag).toBe(30 - (progress?.position ?? 0));

    // Let it finish: the swap happens when it is caught up.
    Object.defineProperty(gated.prototype, "key", { value: SkuStatsV2.prototype.key });
    release();
    await gate;
    await vi.waitFor(async () => expect((await v2.projections.status())[0]?.ready).toBe(true));
    await vi.waitFor(async () =>
      expect(await v2.query(SkuStatsV2).get("sku-1")).toEqual({ added: 30, removed: 0, quantity: 60 }),
    );
    // The old version is dropped once the new one is ready.
    const store = new MemoryEventStore({ storage }).openProjectionStore();
    await vi.waitFor(async () => expect([...(await store.checkpoints()).keys()]).toEqual(["sku-stats@v2"]));
  });

  it("purge reaches a document projection: onPurge drops what it derived from the stream", async () => {
    const silo = await startSilo();
    await silo.get(Cart, "c1").add("sku-1");
    await silo.get(Cart, "c2").add("sku-1");
    expect(await silo.query(CartLog).get("Cart/c1", { waitForLatest: true })).toBeDefined();

    await new MemoryEventStore({ storage }).purge("Cart/c1", { reason: "gdpr", requestedBy: "dpo" });
    await silo.projections.purged("Cart/c1");

    expect(await silo.query(CartLog).get("Cart/c1")).toBeUndefined();
    expect(await silo.query(CartLog).get("Cart/c2")).toBeDefined();
  });

  it("silo.purge tells the projections on the silo that ran it (onPurge hook): the document is dropped", async () => {
    const silo = await startSilo();
    await silo.get(Cart, "c1").add("sku-1");
    await silo.get(Cart, "c2").add("sku-1");
    expect(await silo.query(CartLog).get("Cart/c1", { waitForLatest: true })).toBeDefined();

    await silo.purge(Cart, "c1", { reason: "gdpr", requestedBy: "dpo" });

    expect(await silo.query(CartLog).get("Cart/c1")).toBeUndefined();
    expect(await silo.query(CartLog).get("Cart/c2")).toBeDefined();
  });

  it("a projection that did not run when a stream was purged forgets it when it starts: the notice waits in the feed", async () => {
    const first = await startSilo();
    await first.get(Cart, "c1").add("sku-1");
    await first.get(Cart, "c2").add("sku-1");
    expect(await first.query(CartLog).get("Cart/c1", { waitForLatest: true })).toBeDefined();
    await first.stop();
    // Given a silo without projections purges the cart while no projection runs anywhere
    const purger = await startSilo([]);
    await purger.purge(Cart, "c1", { reason: "gdpr", requestedBy: "dpo" });
    await purger.stop();

    // When the projection runs again, from its checkpoint
    const later = await startSilo();

    // Then it met the notice after the events it had folded, and dropped the cart's document
    expect(await later.query(CartLog).get("Cart/c1", { waitForLatest: true })).toBeUndefined();
    expect(await later.query(CartLog).get("Cart/c2")).toBeDefined();
  });

  it("a purge notice in the middle of a batch: events before it fold first, onPurge commits with the checkpoint at the notice", async () => {
    const writer = await startSilo([]);
    await writer.get(Cart, "c1").add("sku-1");
    await writer.get(Cart, "c2").add("sku-1");
    await writer.purge(Cart, "c1", { reason: "gdpr", requestedBy: "dpo" });
    await writer.get(Cart, "c2").add("sku-2");
    await writer.stop();

    // One catch-up batch holds c2's first event, the notice of c1's purge, and c2's second event.
    const silo = await startSilo();

    expect(await silo.query(CartLog).get("Cart/c2", { waitForLatest: true })).toEqual({
      positions: [2, 4],
    });
    expect(await silo.query(CartLog).get("Cart/c1")).toBeUndefined();
    expect(await silo.query(SkuStats).get("sku-1")).toEqual({ added: 1, removed: 0 });
  });

  it("a projection class is validated at start with a message naming the fix", async () => {
    class NoName extends SkuStats {}
    Object.defineProperty(NoName, "projection", { value: "" });
    await expect(startSilo([NoName])).rejects.toThrow(/static readonly projection/);
    await expect(startSilo([SkuStats, SkuStats])).rejects.toThrow(/unique/);
  });
});

describe("handler projections", () => {
  it("a failing handler is retried with backoff and then succeeds", async () => {
    CheckoutHandler.failUntil = 2;
    const silo = await startSilo([CheckoutHandler]);
    await silo.get(Cart, "c1").checkout();

    await vi.waitFor(() => expect(CheckoutHandler.handled).toHaveLength(1));
    expect(CheckoutHandler.failures).toBe(2);
  });

  it("a handler that keeps failing stops its projection with the error and position visible; others go on", async () => {
    CheckoutHandler.failUntil = 1_000;
    const silo = await startSilo([CheckoutHandler, SkuStats]);
    await silo.get(Cart, "c1").checkout();

    await vi.waitFor(async () => {
      const status = (await silo.projections.status()).find((s) => s.name === "checkout-handler");
      expect(status?.state).toBe("failed");
    });
    const failed = (await silo.projections.status()).find((s) => s.name === "checkout-handler");
    expect(failed?.error).toMatchObject({ code: "PROJECTION_FAILED", position: 1 });
    expect(failed?.error?.message).toContain("mail server down");

    await silo.get(Cart, "c2").add("sku-1");
    expect(await silo.query(SkuStats).get("sku-1", { waitForLatest: true })).toEqual({ added: 1, removed: 0 });

    // Fixed: restart resumes from its checkpoint and handles the event.
    CheckoutHandler.failUntil = 0;
    await silo.projections.restart("checkout-handler");
    await vi.waitFor(() => expect(CheckoutHandler.handled).toEqual([1]));
  });
});

describe("handler projections and purge", () => {
  it("onPurge runs once per purge, in feed order after the stream's events it handled", async () => {
    const silo = await startSilo([CheckoutHandler]);
    await silo.get(Cart, "c1").checkout();
    await vi.waitFor(() => expect(CheckoutHandler.handled).toEqual([1]));

    await silo.purge(Cart, "c1", { reason: "gdpr", requestedBy: "dpo" });
    await silo.get(Cart, "c2").checkout();

    await vi.waitFor(() => expect(CheckoutHandler.handled).toEqual([1, 3]));
    expect(CheckoutHandler.purged).toEqual(["Cart/c1"]);
  });
});

describe("event bus (one silo)", () => {
  it("delivers matching events live, filters by actor id, and rejects cross-namespace patterns without opt-in", async () => {
    const silo = await startSilo([]);
    const all: string[] = [];
    const one: string[] = [];
    const a = silo.events.subscribe("default.Cart.*", (e) => {
      all.push(`${e.actorId}:${e.type}`);
    });
    const b = silo.events.subscribe(
      "default.Cart.ItemAdded",
      (e) => {
        one.push(`${e.actorId}:${e.type}`);
      },
      { actorId: "c2" },
    );
    await Promise.all([a.ready, b.ready]);

    await silo.get(Cart, "c1").add("sku-1");
    await silo.get(Cart, "c2").add("sku-1");
    await silo.get(Cart, "c2").checkout();

    await vi.waitFor(() => expect(all).toEqual(["c1:ItemAdded", "c2:ItemAdded", "c2:CheckedOut"]));
    expect(one).toEqual(["c2:ItemAdded"]);
    expect(() => silo.events.subscribe("*.Cart.*", () => {})).toThrow(/crossNamespace/);
    expect(() => silo.events.subscribe("other.Cart.*", () => {})).toThrow(/namespace/);
    const wide = silo.events.subscribe(">", () => {}, { crossNamespace: true });
    await Promise.all([a.close(), b.close(), wide.close()]);
  });

  it("a purge notice (the runtime's own stream) is not on the bus", async () => {
    const silo = await startSilo([]);
    const seen: string[] = [];
    const sub = silo.events.subscribe("default.>", (e) => {
      seen.push(`${e.actorType}:${e.type}`);
    });
    await sub.ready;

    await silo.get(Cart, "c1").add("sku-1");
    await silo.purge(Cart, "c1", { reason: "gdpr", requestedBy: "dpo" });
    await silo.get(Cart, "c2").add("sku-1");

    await vi.waitFor(() => expect(seen).toEqual(["Cart:ItemAdded", "Cart:ItemAdded"]));
    await sub.close();
  });

  it("a slow subscriber is dropped at its buffer limit and never slows commits", async () => {
    const silo = await startSilo([]);
    let dropped: unknown;
    const never = new Promise<void>(() => {});
    const slow = silo.events.subscribe("default.>", () => never, {
      bufferLimit: 5,
      onDropped: (error) => {
        dropped = error;
      },
    });
    await slow.ready;

    for (let i = 0; i < 20; i++) await silo.get(Cart, "c1").add(`sku-${i}`);

    await vi.waitFor(() => expect(dropped).toMatchObject({ code: "SUBSCRIBER_DROPPED" }));
    expect(slow.closed).toBe(true);
  });
});
