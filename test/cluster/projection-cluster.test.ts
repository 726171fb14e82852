import type { JsonValue } from "@granary/core";
import { RedisEventStore } from "@granary/redis";
import { Client } from "@granary/runtime";
import { type RedisServer, startRedisServer } from "@granary/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cart, cartErrors, Hesitation, Inventory } from "../../examples/cart/src/index.js";
import { CartLogQuery, type CartSilo, spawnCartSilo } from "../helpers/cart-silos.js";
import { clusterKey, eventually, within } from "../helpers/cluster-harness.js";

const SKUS = ["socks", "scarf", "gloves"];

describe("projections in a 3-process cluster on Redis", () => {
  let redis: RedisServer;
  let client: Client;
  const silos: CartSilo[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    for (let i = 0; i < 3; i++) silos.push(await spawnCartSilo(redis.url));
    client = await Client.connect({ redis: redis.url, clusterKey, errors: cartErrors, callTimeoutMs: 20_000 });
    for (const sku of SKUS) await client.get(Inventory, sku).restock(1_000_000);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    for (const silo of silos) {
      silo.child.kill("SIGCONT");
      silo.child.kill("SIGKILL");
      await silo.exited;
    }
    await redis?.stop();
  });

  async function owners(candidates: CartSilo[], projection: string): Promise<CartSilo[]> {
    const result: CartSilo[] = [];
    for (const silo of candidates) if (await silo.runs(projection)) result.push(silo);
    return result;
  }

  /** Cart traffic from the client until `stop` is called; resolves with the number of commits. */
  function load(): { commits: () => number; stop: () => Promise<number> } {
    let running = true;
    let commits = 0;
    const work = (async () => {
      for (let i = 0; running; i++) {
        const cart = client.get(Cart, `cart-${i % 40}`);
        try {
          await cart.add(SKUS[i % SKUS.length] as string);
          commits++;
          if (i % 3 === 0) {
            await cart.remove(SKUS[i % SKUS.length] as string);
            commits++;
          }
        } catch {
          // A call cut by the kill may or may not have committed; the check reads the store.
        }
      }
    })();
    return {
      commits: () => commits,
      stop: async () => {
        running = false;
        await work;
        return commits;
      },
    };
  }

  /** Every Cart event in the store is in its cart's log exactly once, in feed order. */
  async function expectExactlyOnce(): Promise<void> {
    const store = new RedisEventStore({ redis: redis.url, logger: { warn: () => {} } });
    try {
      const all = (await store.readAll(0, 1_000_000)).filter((e) => e.stream.startsWith("Cart/"));
      const streams = [...new Set(all.map((e) => e.stream))];
      expect(streams.length).toBeGreaterThan(0);
      // Read-your-writes through the client: everything committed so far is processed.
      await client.query(Hesitation).count({ waitForLatest: true });
      for (const stream of streams) {
        const document = await client
          .query(CartLogQuery)
          .get(stream, { waitForLatest: true })
          .then((d) => d as { positions: JsonValue[] } | undefined);
        expect(document?.positions, stream).toEqual(all.filter((e) => e.stream === stream).map((e) => e.position));
      }
    } finally {
      await store.close();
    }
  }

  it("each projection runs on exactly one silo; after kill -9 of its silo it moves and nothing is double-counted", {
    timeout: 120_000,
  }, async () => {
    await eventually(async () => (await owners(silos, "cart-log")).length === 1, "cart-log runs on one silo");
    const traffic = load();
    await eventually(() => traffic.commits() >= 100, "the cart traffic is under way");
    const [owner] = await owners(silos, "cart-log");
    owner?.child.kill("SIGKILL");
    await owner?.exited;
    const survivors = silos.filter((s) => s !== owner);

    await eventually(
      async () => (await owners(survivors, "cart-log")).length === 1,
      "cart-log moved to a survivor",
      30_000,
    );
    const atMove = traffic.commits();
    await eventually(() => traffic.commits() >= atMove + 50, "the traffic goes on after the move");
    await traffic.stop();

    expect((await owners(survivors, "hesitation")).length).toBe(1);
    await expectExactlyOnce();
    silos.splice(silos.indexOf(owner as CartSilo), 1);
  });

  it("a paused (SIGSTOP) silo cannot advance the checkpoint after its projection moved", {
    timeout: 120_000,
  }, async () => {
    const [zombie] = await owners(silos, "cart-log");
    const other = silos.find((s) => s !== zombie) as CartSilo;
    const traffic = load();
    await eventually(() => traffic.commits() >= 50, "the cart traffic is under way");
    zombie?.child.kill("SIGSTOP");

    await eventually(async () => await other.runs("cart-log"), "the other silo took cart-log over", 30_000);
    const takenOver = (await other.status()).find((s) => s.name === "cart-log");
    // The new owner moves the checkpoint past where the zombie stopped before the zombie wakes.
    await eventually(
      async () =>
        ((await other.status()).find((s) => s.name === "cart-log")?.position ?? 0) > (takenOver?.position ?? 0),
      "the new owner advanced the checkpoint",
      30_000,
    );
    zombie?.child.kill("SIGCONT");
    // The zombie wakes up with its old epoch and buffered work; it must stop without writing.
    await within(zombie?.fenced, "the zombie fenced itself", 30_000);
    await eventually(async () => !(await zombie?.runs("cart-log")), "the zombie stopped its projection");
    const atWake = traffic.commits();
    await eventually(() => traffic.commits() >= atWake + 50, "the traffic goes on after the zombie woke");
    await traffic.stop();

    const now = (await other.status()).find((s) => s.name === "cart-log");
    expect(now?.state).toMatch(/live|catching-up/);
    expect(now?.epoch).toBe(takenOver?.epoch);
    expect(await zombie?.runs("cart-log")).toBe(false);
    await expectExactlyOnce();
  });
});
