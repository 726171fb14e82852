import { Client } from "@granary/runtime";
import { useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Cart, cartErrors, Inventory } from "../../examples/cart/src/index.js";
import { CartLogQuery, type CartSilo, spawnCartSilo } from "../helpers/cart-silos.js";
import { clusterKey, eventually } from "../helpers/cluster-harness.js";
import { killSilos } from "../helpers/silo-process.js";

const REQUEST = { reason: "GDPR erasure #9", requestedBy: "dpo@example.com" };

const redis = useRedisServer();
let admin: Redis;
let silos: CartSilo[] = [];
let client: Client | undefined;

beforeAll(() => {
  admin = new Redis(redis.url);
});
afterAll(() => {
  admin?.disconnect();
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  await killSilos(silos);
  silos = [];
  await admin.flushall();
});

/** Two cart silos (test/fixtures/cart-silo.mjs: cart-log deletes a purged cart's log), carts c0..c9 with a log each. */
async function startCluster(leaseMs: number): Promise<{ client: Client; owner: CartSilo; other: CartSilo }> {
  silos = await Promise.all([spawnCartSilo(redis.url, leaseMs), spawnCartSilo(redis.url, leaseMs)]);
  const connected = await Client.connect({ redis: redis.url, clusterKey, errors: cartErrors, callTimeoutMs: 20_000 });
  client = connected;
  await eventually(() => connected.gateways.length === 2, "the client sees both silos");
  await connected.get(Inventory, "socks").restock(100);
  for (let i = 0; i < 10; i++) await connected.get(Cart, `c${i}`).add("socks");
  await eventually(async () => (await runningCartLog()).length === 1, "cart-log runs on one silo", 30_000);
  const [owner] = await runningCartLog();
  const other = silos.find((s) => s !== owner) as CartSilo;
  for (let i = 0; i < 10; i++) expect(await logOf(`c${i}`, true), `c${i}`).toBeDefined();
  return { client: connected, owner: owner as CartSilo, other };
}

async function runningCartLog(): Promise<CartSilo[]> {
  const running: CartSilo[] = [];
  for (const silo of silos) if (await silo.runs("cart-log")) running.push(silo);
  return running;
}

function logOf(cart: string, waitForLatest = false): Promise<{ positions: number[] } | undefined> {
  return (client as Client).query(CartLogQuery).get(`Cart/${cart}`, { waitForLatest });
}

/** A cart whose activation lives on `silo` (from the directory in Redis): its purge runs there. */
async function cartActiveOn(silo: CartSilo): Promise<string> {
  for (let i = 0; i < 10; i++) {
    if ((await admin.hget(`granary:{default}:dir:Cart/c${i}`, "siloId")) === silo.siloId) return `c${i}`;
  }
  throw new Error(`no cart of c0..c9 is active on ${silo.siloId}`);
}

describe("purge and projections on a 2-process cluster on Redis", () => {
  it("a purge run on the silo that does not run the projection removes the purged cart's documents", {
    timeout: 120_000,
  }, async () => {
    const { client, owner, other } = await startCluster(3_000);
    const gone = await cartActiveOn(other);

    // When the silo without cart-log purges the cart (the purge runs where the actor is active)
    await client.purge(Cart, gone, REQUEST);

    // Then the projection on the other silo forgets it, and keeps every other cart
    await eventually(async () => (await logOf(gone)) === undefined, "the purged cart's log is deleted", 30_000);
    expect(await logOf(gone, true)).toBeUndefined();
    for (let i = 0; i < 10; i++) if (`c${i}` !== gone) expect(await logOf(`c${i}`), `c${i}`).toBeDefined();
    expect(await owner.runs("cart-log")).toBe(true);
  });

  it("a purge while the projection's silo is dead (kill -9) is applied when the projection resumes on the survivor", {
    timeout: 120_000,
  }, async () => {
    // A lease long enough that the purge lands while cart-log still belongs to the dead silo.
    const { client, owner, other } = await startCluster(6_000);
    const gone = await cartActiveOn(other);
    owner.child.kill("SIGKILL");
    await owner.exited;

    await client.purge(Cart, gone, REQUEST);
    // At the purge, cart-log ran nowhere: no silo was there to be told.
    expect(await other.runs("cart-log")).toBe(false);

    await eventually(async () => await other.runs("cart-log"), "cart-log moved to the survivor", 30_000);
    await eventually(async () => (await logOf(gone)) === undefined, "the purged cart's log is deleted", 30_000);
    for (let i = 0; i < 10; i++) if (`c${i}` !== gone) expect(await logOf(`c${i}`), `c${i}`).toBeDefined();
  });
});
