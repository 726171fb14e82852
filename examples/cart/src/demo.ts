/**
 * The cart demo, with no servers (events in SQLite under ./.granary/cart-demo):
 *
 * 1. A silo without any read model runs a day of shopping: carts add, remove and check out items,
 *    each reserving stock on the SKU's Inventory actor.
 * 2. The "hesitation" projection is added afterwards. On start it is built from position 0 over the
 *    carts' old history (progress printed from `silo.projections.status()`), then follows live.
 * 3. A client connects like a web server would, queries the read model (`client.query`), and
 *    watches live cart events on the bus (`client.events`) while one more customer hesitates.
 *
 * Run: pnpm --filter cart demo   (after `pnpm build`)
 */
import { rmSync } from "node:fs";
import { MemoryDirectory, MemoryMembership } from "@granary/core";
import { Client, Silo } from "@granary/runtime";
import { pino } from "pino";
import { Cart, cartActors, cartErrors, Hesitation, Inventory } from "./index.js";

const dataDir = process.env.GRANARY_DATA_DIR ?? "./.granary/cart-demo";
// Start from an empty store each run so the output is the same every time.
rmSync(dataDir, { recursive: true, force: true });
const logger = pino({ level: process.env.GRANARY_LOG_LEVEL ?? "warn" });
const skus = ["socks", "scarf", "gloves", "beanie", "boots"];

async function dayOfShopping(): Promise<void> {
  // No `projections`: this silo knows nothing about read models yet.
  const silo = await Silo.start({ actors: cartActors, errors: cartErrors, dataDir, logger });
  for (const sku of skus) await silo.get(Inventory, sku).restock(1_000);
  for (let i = 0; i < 200; i++) {
    const cart = silo.get(Cart, `cart-${i}`);
    const first = skus[i % skus.length] as string;
    const second = skus[(i * 3 + 1) % skus.length] as string;
    await cart.add(first, 1 + (i % 3));
    await cart.add(second);
    if (i % 4 === 0) await cart.remove(second); // hesitates...
    if (i % 8 === 0) await cart.add(second); // ...and sometimes changes their mind
    if (i % 3 !== 2) await cart.checkout(); // every third cart is abandoned
  }
  console.log("day 1: 200 carts shopped (no read model yet)");
  await silo.stop();
}

async function withReadModel(): Promise<void> {
  // In-process membership and directory give the silo a TCP gateway for a client without Redis;
  // with `redis: "redis://..."` the same code runs as a cluster.
  const membership = new MemoryMembership();
  const directory = new MemoryDirectory({ isLive: (id) => membership.isLive(id) });
  const clusterKey = "cart-demo-cluster-key-0123456789abcdef";
  const silo = await Silo.start({
    actors: cartActors,
    errors: cartErrors,
    projections: [Hesitation], // new: built over the old history at start
    dataDir,
    logger,
    membership,
    directory,
    clusterKey,
    port: 0, // any free port
  });
  const [status] = await silo.projections.status();
  console.log(
    `day 2: projection ${status?.id} ${status?.state}: ${status?.position}/${status?.head} events, ${status?.ratePerSecond}/s`,
  );

  const client = await Client.connect({ membership, clusterKey, errors: cartErrors });
  const hesitations = await client.query(Hesitation).list({ limit: 10, waitForLatest: true });
  const [done] = await silo.projections.status();
  console.log(`rebuilt over old history: ${done?.position}/${done?.head} events, ready=${done?.ready}`);
  console.log("hesitation per SKU (client.query):");
  for (const { key, document } of hesitations.items) {
    console.log(
      `  ${key.padEnd(7)} removed ${String(document.removals).padStart(3)}×, still hesitating: ${String(document.hesitantCarts.length).padStart(3)} carts, changed their mind: ${document.changedMind}`,
    );
  }

  const live: string[] = [];
  const subscription = client.events.subscribe("default.Cart.*", (event) => {
    live.push(`${event.subject} ${event.actorId} ${JSON.stringify(event.data)}`);
  });
  await subscription.ready;
  const cart = client.get(Cart, "cart-live");
  await cart.add("boots");
  await cart.remove("boots");
  const boots = await client.query(Hesitation).get("boots", { waitForLatest: true });
  console.log(`after one more customer put boots back: ${boots?.hesitantCarts.length} carts hesitating over boots`);
  while (live.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
  console.log("live on the bus (client.events):");
  for (const line of live) console.log(`  ${line}`);

  await subscription.close();
  await client.close();
  await silo.stop();
}

await dayOfShopping();
await withReadModel();
