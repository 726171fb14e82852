import { MemoryEventStorage, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { Silo } from "@granary/runtime";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Cart, cartActors, cartErrors, Hesitation, Inventory, OutOfStock } from "./index.js";

const logger = pino({ level: "silent" });
const silos: Silo[] = [];
afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

async function start(storage: MemoryEventStorage, withProjection: boolean): Promise<Silo> {
  const silo = await Silo.start({
    actors: cartActors,
    errors: cartErrors,
    store: new MemoryEventStore({ storage }),
    snapshots: new MemorySnapshotStore(),
    logger,
    ...(withProjection ? { projections: [Hesitation] } : {}),
  });
  silos.push(silo);
  return silo;
}

describe("cart example", () => {
  it("hesitation is built after the carts exist, over their old history", async () => {
    const storage = new MemoryEventStorage();
    const before = await start(storage, false);
    await before.get(Inventory, "socks").restock(10);
    await before.get(Inventory, "scarf").restock(10);
    await before.get(Cart, "a").add("socks");
    await before.get(Cart, "a").remove("socks"); // a hesitates over socks, never buys
    await before.get(Cart, "b").add("scarf");
    await before.get(Cart, "b").remove("scarf");
    await before.get(Cart, "b").add("scarf");
    await before.get(Cart, "b").checkout(); // b changed their mind
    await before.stop();

    const after = await start(storage, true);

    expect(await after.query(Hesitation).get("socks", { waitForLatest: true })).toEqual({
      sku: "socks",
      hesitantCarts: ["a"],
      removals: 1,
      changedMind: 0,
    });
    expect(await after.query(Hesitation).get("scarf")).toEqual({
      sku: "scarf",
      hesitantCarts: [],
      removals: 1,
      changedMind: 1,
    });
  });

  it("inventory refuses a reservation beyond stock, and the cart stays unchanged", async () => {
    const silo = await start(new MemoryEventStorage(), false);
    await silo.get(Inventory, "boots").restock(1);

    await expect(silo.get(Cart, "c").add("boots", 2)).rejects.toBeInstanceOf(OutOfStock);
    expect((await silo.get(Cart, "c").contents()).items).toEqual({});
  });
});
