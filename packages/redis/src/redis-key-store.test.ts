import { keyStoreConformance, type RedisServer, startRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { RedisKeyStore } from "./redis-key-store.js";

let server: RedisServer;
let raw: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  raw = new Redis(server.url);
});
afterAll(async () => {
  raw?.disconnect();
  await server?.stop();
});

keyStoreConformance("RedisKeyStore", {
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
