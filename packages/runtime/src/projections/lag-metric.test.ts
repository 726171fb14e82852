import { MemoryEventStorage, MemoryEventStore } from "@granary/core";
import { metrics } from "@opentelemetry/api";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Cart, CheckoutHandler, SkuStats } from "../__fixtures__/cart.js";
import { fakeMeters } from "../__fixtures__/fake-meters.js";
import { Silo } from "../silo/silo.js";

afterEach(() => {
  metrics.disable();
});

describe("projection lag metric", () => {
  it("granary.projection.lag reports head − checkpoint per running projection, 0 when caught up, the backlog when stuck", async () => {
    const { provider, collect } = fakeMeters();
    metrics.setGlobalMeterProvider(provider as never);
    const storage = new MemoryEventStorage();
    const writer = await Silo.start({
      actors: [Cart],
      store: new MemoryEventStore({ storage }),
      logger: pino({ level: "silent" }),
    });
    for (let i = 0; i < 5; i++) await writer.get(Cart, "c1").add(`sku-${i}`);
    await writer.get(Cart, "c1").checkout();
    await writer.stop();
    CheckoutHandler.failures = 0;
    CheckoutHandler.failUntil = 1_000;

    const silo = await Silo.start({
      actors: [Cart],
      projections: [SkuStats, CheckoutHandler],
      store: new MemoryEventStore({ storage }),
      logger: pino({ level: "silent" }),
      readSide: { headIntervalMs: 10 },
    });
    try {
      await silo.query(SkuStats).count({ waitForLatest: true });
      await vi.waitFor(() =>
        expect(collect("granary.projection.lag")).toEqual([
          { value: 0, attributes: { projection: "sku-stats", version: "1", state: "live" } },
          // Stuck before the checkout it cannot handle: all 6 events behind.
          { value: 6, attributes: { projection: "checkout-handler", version: "1", state: "failed" } },
        ]),
      );
    } finally {
      CheckoutHandler.failUntil = 0;
      await silo.stop();
    }
  });
});
