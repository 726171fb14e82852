import { type RedisServer, snapshotStoreConformance, startRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisSnapshotStore } from "./redis-snapshot-store.js";

let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

snapshotStoreConformance("RedisSnapshotStore", {
  open: async ({ namespace }) => new RedisSnapshotStore({ redis: server.url, namespace }),
});

describe("RedisSnapshotStore", () => {
  it("stores the snapshot as JSON in a hash readable with redis-cli", async () => {
    const store = new RedisSnapshotStore({ redis: server.url, namespace: "readable" });
    const snapshot = { stream: "Account/1", version: 3, snapshotVersion: 2, state: { balance: 30 }, timestamp: "t" };
    await store.save(snapshot);

    const raw = new Redis(server.url);
    expect(await raw.hgetall("granary:{readable}:snapshot:Account/1")).toEqual({
      version: "3",
      snapshot: JSON.stringify(snapshot),
    });
    raw.disconnect();
    await store.close();
  });
});
