import { makeEvents, useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisEventStore } from "./redis-event-store.js";

const server = useRedisServer();
let raw: Redis;
const quietLogger = { warn: () => {} };

beforeAll(() => {
  raw = new Redis(server.url);
});
afterAll(() => {
  raw?.disconnect();
});

async function readsProcessed(): Promise<number> {
  return Number(/total_reads_processed:(\d+)/.exec(await raw.info("stats"))?.[1]);
}

describe("Redis scripts", () => {
  it("scripts - appends issued in one turn of the event loop reach Redis in one socket write", async () => {
    // Given a store that has written once (connected, scripts loaded)
    const store = new RedisEventStore({ redis: server.url, namespace: "batched", logger: quietLogger });
    await store.append("Account/warm", 0, makeEvents("Account/warm", 0, 1));
    // When 200 appends to different streams are issued together
    const before = await readsProcessed();
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.append(`Account/${i}`, 0, makeEvents(`Account/${i}`, 0, 1))),
    );
    const reads = (await readsProcessed()) - before;
    // Then Redis read them in a handful of reads (16 KiB each), not one per append
    expect(reads).toBeLessThan(40);
    await store.close();
  });

  it("scripts - after Redis forgot its scripts (SCRIPT FLUSH) they are sent again and run", async () => {
    const store = new RedisEventStore({ redis: server.url, namespace: "flushed", logger: quietLogger });
    await store.append("Account/1", 0, makeEvents("Account/1", 0, 1));
    await raw.script("FLUSH");
    const result = await store.append("Account/1", 1, makeEvents("Account/1", 1, 2));
    expect(result.version).toBe(3);
    expect((await store.read("Account/1")).map((e) => e.version)).toEqual([1, 2, 3]);
    await store.close();
  });

  it("append - a batch with several correlation ids lists each event's position under its own id", async () => {
    const store = new RedisEventStore({ redis: server.url, namespace: "correlated", logger: quietLogger });
    const events = makeEvents("Order/1", 0, 4, (version) => ({
      metadata: {
        correlationId: version <= 2 ? "c-a" : version === 3 ? "c-b" : "c-a",
        causationId: "x",
        commandId: "x",
      },
    }));
    const { position } = await store.append("Order/1", 0, events);
    expect((await store.readCorrelated("c-a")).map((e) => e.version)).toEqual([1, 2, 4]);
    expect((await store.readCorrelated("c-b")).map((e) => e.position)).toEqual([position - 1]);
    await store.close();
  });
});
