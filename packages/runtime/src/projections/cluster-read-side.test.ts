import { MemoryDirectory, MemoryEventStore, MemoryMembership, MemorySnapshotStore } from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Cart, CartLog, SkuStats } from "../__fixtures__/cart.js";
import { Client } from "../client/client.js";
import { Silo } from "../silo/silo.js";

const logger = pino({ level: "silent" });
const clusterKey = "in-process-read-side-cluster-key-0123456789";
const running: { stop?: () => Promise<void>; close?: () => Promise<void> }[] = [];

afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((r) => (r.stop ? r.stop() : r.close?.())));
});

function inProcessCluster() {
  const membership = new MemoryMembership();
  const directory = new MemoryDirectory({ isLive: (id) => membership.isLive(id) });
  const store = new MemoryEventStore();
  const startSilo = async () => {
    const silo = await Silo.start({
      actors: [Cart],
      projections: [SkuStats, CartLog],
      membership,
      directory,
      store,
      snapshots: new MemorySnapshotStore(),
      clusterKey,
      port: 0,
      leaseMs: 5_000,
      logger,
      readSide: { ownershipCheckMs: 20, headIntervalMs: 20 },
    });
    running.push(silo);
    return silo;
  };
  const connect = async () => {
    const client = await Client.connect({ membership, clusterKey, callTimeoutMs: 10_000 });
    running.push(client);
    return client;
  };
  return { store, startSilo, connect };
}

async function runningOn(silos: Silo[], name: string): Promise<Silo[]> {
  const owners: Silo[] = [];
  for (const silo of silos) {
    const status = (await silo.projections.status()).find((s) => s.name === name);
    if (status && status.state !== "elsewhere" && status.state !== "stopped") owners.push(silo);
  }
  return owners;
}

describe("read side in an in-process cluster", () => {
  it("each projection runs on exactly one silo, and moves to a survivor when its silo leaves", async () => {
    const cluster = inProcessCluster();
    const silos = [await cluster.startSilo(), await cluster.startSilo(), await cluster.startSilo()];
    const client = await cluster.connect();
    for (let i = 0; i < 30; i++) await client.get(Cart, `c${i % 5}`).add(`sku-${i % 3}`);

    await vi.waitFor(async () => expect(await runningOn(silos, "sku-stats")).toHaveLength(1));
    const [owner] = await runningOn(silos, "sku-stats");
    await owner?.stop();
    const survivors = silos.filter((s) => s !== owner);
    for (let i = 0; i < 30; i++) await client.get(Cart, `c${i % 5}`).add(`sku-${i % 3}`);

    await vi.waitFor(async () => expect(await runningOn(survivors, "sku-stats")).toHaveLength(1), { timeout: 10_000 });
    const total = async () => {
      let sum = 0;
      for (const key of ["sku-0", "sku-1", "sku-2"])
        sum += (await client.query(SkuStats).get(key, { waitForLatest: true }))?.added ?? 0;
      return sum;
    };
    expect(await total()).toBe(60);
  });

  it("client.query: get with read-your-writes, list with a cursor, count", async () => {
    const cluster = inProcessCluster();
    await cluster.startSilo();
    await cluster.startSilo();
    const client = await cluster.connect();

    await client.get(Cart, "c1").add("sku-a");
    expect(await client.query(SkuStats).get("sku-a", { waitForLatest: true })).toEqual({ added: 1, removed: 0 });
    await client.get(Cart, "c1").add("sku-b");
    await client.get(Cart, "c1").remove("sku-a");
    const page = await client.query(SkuStats).list({ limit: 1, waitForLatest: true });
    const rest = await client.query(SkuStats).list({ limit: 10, ...(page.next ? { after: page.next } : {}) });

    expect(page.items).toEqual([{ key: "sku-a", document: { added: 1, removed: 1 } }]);
    expect(rest).toEqual({ items: [{ key: "sku-b", document: { added: 1, removed: 0 } }], next: undefined });
    expect(await client.query(SkuStats).count()).toBe(2);
    expect(() => client.query(SkuStats).list({ where: () => true })).toThrow(/cannot cross the wire/);
  });

  it("purge reaches a document projection running on another silo (through the notice in the feed)", async () => {
    const cluster = inProcessCluster();
    const silos = [await cluster.startSilo(), await cluster.startSilo()];
    const client = await cluster.connect();
    await client.get(Cart, "gone").add("sku-1");
    await client.get(Cart, "kept").add("sku-1");
    expect(await client.query(CartLog).get("Cart/gone", { waitForLatest: true })).toBeDefined();
    await vi.waitFor(async () => expect(await runningOn(silos, "cart-log")).toHaveLength(1));
    const [owner] = await runningOn(silos, "cart-log");
    const other = silos.find((s) => s !== owner) as Silo;

    await cluster.store.purge("Cart/gone", { reason: "gdpr", requestedBy: "dpo" });
    await other.projections.purged("Cart/gone");

    // Read-your-writes: the head the query waits for includes the purge notice.
    expect(await client.query(CartLog).get("Cart/gone", { waitForLatest: true })).toBeUndefined();
    expect(await client.query(CartLog).get("Cart/kept")).toBeDefined();
  });

  it("event bus: a subscriber on one silo (and on a client) sees commits made on another silo", async () => {
    const cluster = inProcessCluster();
    const a = await cluster.startSilo();
    const c = await cluster.startSilo();
    const client = await cluster.connect();
    const onSilo: string[] = [];
    const onClient: string[] = [];
    const siloSub = a.events.subscribe("default.Cart.>", (e) => {
      onSilo.push(`${e.actorId}:${e.type}`);
    });
    const clientSub = client.events.subscribe("default.Cart.ItemAdded", (e) => {
      onClient.push(`${e.subject}:${e.actorId}`);
    });
    await Promise.all([siloSub.ready, clientSub.ready]);

    await c.get(Cart, "c9").add("sku-1");
    await c.get(Cart, "c9").checkout();

    await vi.waitFor(() => expect(onSilo).toEqual(["c9:ItemAdded", "c9:CheckedOut"]));
    await vi.waitFor(() => expect(onClient).toEqual(["default.Cart.ItemAdded:c9"]));
    await Promise.all([siloSub.close(), clientSub.close()]);
  });
});
