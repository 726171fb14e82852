import { reminderStoreConformance, useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisReminderStore } from "./redis-reminder-store.js";

const server = useRedisServer();

reminderStoreConformance("RedisReminderStore", {
  open: async ({ namespace }) => new RedisReminderStore({ redis: server.url, namespace }),
});

describe("RedisReminderStore", () => {
  it("keeps the due-time index as a sorted set readable with redis-cli", async () => {
    const store = new RedisReminderStore({ redis: server.url, namespace: "readable" });
    await store.upsert({
      stream: "Cart/1",
      name: "expire",
      registrationId: "r1",
      dueAt: 4_102_444_800_123,
      periodMs: 0,
      missed: "fire-once",
      partition: 5,
    });

    const raw = new Redis(server.url);
    expect(await raw.zrange("granary:{readable}:reminders-due:5", 0, -1, "WITHSCORES")).toEqual([
      "Cart/1\u0000expire",
      "4102444800123",
    ]);
    expect(JSON.parse((await raw.hget("granary:{readable}:reminders:Cart/1", "expire")) ?? "{}")).toMatchObject({
      registrationId: "r1",
      partition: 5,
    });
    raw.disconnect();
    await store.close();
  });
});
