import { ErrorCode, type EventStore } from "@granary/core";
import { eventStoreConformance, makeEvents, rejectionOf, startRedisServer, useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
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

eventStoreConformance("RedisEventStore", {
  open: async ({ namespace, upcasters }) =>
    new RedisEventStore({ redis: server.url, namespace, logger: quietLogger, ...(upcasters && { upcasters }) }),
  // A truncated write: the JSON is cut in half, as a torn or tampered value would be.
  corrupt: async (_store, stream, version, namespace) => {
    const key = `granary:{${namespace}}:stream:${stream}`;
    const json = (await raw.lindex(key, version - 1)) as string;
    await raw.lset(key, version - 1, json.slice(0, Math.floor(json.length / 2)));
  },
});

describe("RedisEventStore", () => {
  const open = (namespace: string, extra: Partial<ConstructorParameters<typeof RedisEventStore>[0]> = {}) =>
    new RedisEventStore({ redis: server.url, namespace, logger: quietLogger, ...extra });

  it("stores each event as the JSON of the recorded event, readable with redis-cli", async () => {
    const store = open("readable");
    const [event] = makeEvents("Account/1", 0, 1);
    const { position } = await store.append("Account/1", 0, [event!]);

    const stored = await raw.lrange("granary:{readable}:stream:Account/1", 0, -1);
    const feed = await raw.xrange("granary:{readable}:feed", "-", "+");

    expect(stored.map((json) => JSON.parse(json))).toEqual([{ ...event, position }]);
    expect(feed).toEqual([[`${position}-0`, ["stream", "Account/1", "version", "1"]]]);
    await store.close();
  });

  it("keyPrefix separates two applications sharing one Redis", async () => {
    const a = open("shared", { keyPrefix: "app-a" });
    const b = open("shared", { keyPrefix: "app-b" });
    await a.append("s/1", 0, makeEvents("s/1", 0, 2));

    expect(await b.latestVersion("s/1")).toBe(0);
    expect(await raw.exists("app-a:{shared}:stream:s/1")).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });

  it("accepts an ioredis instance and leaves it open on close", async () => {
    const client = new Redis(server.url);
    const store = new RedisEventStore({ redis: client, namespace: "injected", logger: quietLogger });
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));

    await store.close();

    expect(await client.ping()).toBe("PONG");
    client.disconnect();
  });

  it("a fencing epoch is kept per stream and only ever raised", async () => {
    const store = open("epochs");
    await store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 1_700_000_000_123 });
    await store.append("s/1", 1, makeEvents("s/1", 1, 1));

    const error = await rejectionOf(store.append("s/1", 2, makeEvents("s/1", 2, 1), { epoch: 1_700_000_000_122 }));

    expect(error).toMatchObject({ code: ErrorCode.FencedWrite, currentEpoch: 1_700_000_000_123 });
    expect(await raw.get("granary:{epochs}:stream-epoch:s/1")).toBe("1700000000123");
    await store.close();
  });

  it("an invalid epoch is rejected with InvalidArgumentError before reaching Redis", async () => {
    const store = open("bad-epoch");

    const error = await rejectionOf(store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 1.5 }));

    expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
    await store.close();
  });

  it("purge removes the payloads, feed entries and event ids from Redis, keeping the tombstone", async () => {
    const store = open("purge-keys");
    const events = makeEvents("User/1", 0, 3, () => ({ data: { email: "ada@example.com" } }));
    await store.append("User/1", 0, events);
    await store.append("User/2", 0, makeEvents("User/2", 0, 1));

    await store.purge("User/1", { reason: "gdpr", requestedBy: "dpo" });

    expect(await raw.exists("granary:{purge-keys}:stream:User/1")).toBe(0);
    const ids = await raw.hkeys("granary:{purge-keys}:event-ids");
    expect(ids.some((id) => events.some((e) => e.id === id))).toBe(false);
    expect(await raw.xlen("granary:{purge-keys}:feed")).toBe(1);
    const tombstone = JSON.parse((await raw.get("granary:{purge-keys}:tombstone:User/1")) as string);
    expect(tombstone).toMatchObject({ stream: "User/1", reason: "gdpr", requestedBy: "dpo", lastVersion: 3 });
    expect(await store.latestVersion("User/1")).toBe(3);
    await store.close();
  });

  it("appends of 100 concurrent writers on separate connections keep the feed gapless and ordered", async () => {
    const stores: EventStore[] = Array.from({ length: 4 }, () => open("many-writers"));
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (stores[i % 4] as EventStore).append(`w/${i}`, 0, makeEvents(`w/${i}`, 0, 2)),
      ),
    );

    const feed = await (stores[0] as EventStore).readAll(0, 1_000);

    expect(feed.map((e) => e.position)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    await Promise.all(stores.map((s) => s.close()));
  });

  it("a subscriber is woken by appends made through another connection", async () => {
    const writer = open("wake");
    const reader = open("wake");
    const seen: number[] = [];
    const subscription = reader.subscribe({ fromPosition: 0, onEvent: (e) => void seen.push(e.position) });

    for (let i = 0; i < 5; i++) await writer.append("s/1", i, makeEvents("s/1", i, 1));

    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3, 4, 5]), { timeout: 20_000 });
    await subscription.close();
    await Promise.all([writer.close(), reader.close()]);
  });
});

describe("RedisEventStore persistence check", () => {
  it("warns through the logger when Redis runs without AOF, saying what is at risk and how to enable it", async () => {
    const volatile = await startRedisServer({ appendonly: false });
    const warnings: { obj: object; msg: string }[] = [];
    const store = new RedisEventStore({
      redis: volatile.url,
      logger: { warn: (obj, msg) => warnings.push({ obj, msg }) },
    });
    try {
      const status = await store.persistence();

      expect(status).toMatchObject({ appendonly: false, warned: true });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toMatch(/can be lost/);
      expect(warnings[0]?.msg).toContain("CONFIG SET appendonly yes");
      expect(warnings[0]?.obj).toMatchObject({ redis: volatile.url, appendonly: "no" });
    } finally {
      await store.close();
      await volatile.stop();
    }
  });

  it("does not warn when AOF is on", async () => {
    const warnings: string[] = [];
    const store = new RedisEventStore({ redis: server.url, logger: { warn: (_obj, msg) => warnings.push(msg) } });

    expect(await store.persistence()).toMatchObject({ appendonly: true, appendfsync: "everysec", warned: false });
    expect(warnings).toEqual([]);
    await store.close();
  });
});
