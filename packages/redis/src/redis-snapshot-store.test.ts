import { snapshotStoreConformance, useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisSnapshotStore } from "./redis-snapshot-store.js";

const server = useRedisServer();

snapshotStoreConformance("RedisSnapshotStore", {
  open: async ({ namespace }) => new RedisSnapshotStore({ redis: server.url, namespace }),
});

describe("RedisSnapshotStore", () => {
  it("stores each snapshot as JSON in a sorted set by version, readable with redis-cli", async () => {
    const store = new RedisSnapshotStore({ redis: server.url, namespace: "readable" });
    const snapshot = { stream: "Account/1", version: 3, snapshotVersion: 2, state: { balance: 30 }, timestamp: "t" };
    await store.save(snapshot);

    const raw = new Redis(server.url);
    expect(await raw.zrange("granary:{readable}:snapshots:Account/1", 0, -1, "WITHSCORES")).toEqual([
      `2|${JSON.stringify(snapshot)}`,
      "3",
    ]);
    raw.disconnect();
    await store.close();
  });
});
