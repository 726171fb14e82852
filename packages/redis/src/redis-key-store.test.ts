import { keyStoreConformance, useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisKeyStore } from "./redis-key-store.js";

const server = useRedisServer();
let raw: Redis;

beforeAll(() => {
  raw = new Redis(server.url);
});
afterAll(() => {
  raw?.disconnect();
});

keyStoreConformance("RedisKeyStore", {
  watchesDestroyed: true,
  open: async ({ namespace }) => new RedisKeyStore({ redis: server.url, namespace }),
  // Every value of every key, as Redis serializes it (DUMP), plus the hash fields decoded.
  dump: async () => {
    const parts: Buffer[] = [];
    for (const key of await raw.keys("*")) {
      const dumped = await raw.dumpBuffer(key);
      if (dumped) parts.push(dumped);
      if ((await raw.type(key)) === "hash") {
        for (const value of Object.values(await raw.hgetall(key))) {
          parts.push(Buffer.from(value));
          const encoded = /"key":"([^"]+)"/.exec(value)?.[1];
          if (encoded) parts.push(Buffer.from(encoded, "base64"));
        }
      }
    }
    return Buffer.concat(parts);
  },
});

describe("RedisKeyStore - watchDestroyed", () => {
  it("a destroy through one store instance is announced to the watchers of another", async () => {
    const a = new RedisKeyStore({ redis: server.url, namespace: "watched" });
    const b = new RedisKeyStore({ redis: server.url, namespace: "watched" });
    const elsewhere = new RedisKeyStore({ redis: server.url, namespace: "other" });
    const seen: string[] = [];
    const unwatch = b.watchDestroyed((subject, destroyedAt) => seen.push(`${subject}@${destroyedAt}`));
    elsewhere.watchDestroyed((subject) => seen.push(`wrong namespace: ${subject}`));
    await a.getOrCreate("cust-1");
    // The subscription is asynchronous: destroy until the watcher is listening, as a later forget would be.
    let destroyed = await a.destroy("cust-1");
    await expect
      .poll(async () => {
        if (seen.length === 0) destroyed = await a.destroy("cust-1");
        return seen.length;
      })
      .toBeGreaterThan(0);

    expect(seen[0]).toBe(`cust-1@${destroyed.destroyedAt}`);
    expect(seen.some((s) => s.startsWith("wrong namespace"))).toBe(false);
    unwatch();
    await Promise.all([a.close(), b.close(), elsewhere.close()]);
  });
});
