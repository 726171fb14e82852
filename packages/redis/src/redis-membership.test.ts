import { membershipConformance, type RedisServer, startRedisServer } from "@granary/testing";
import { afterAll, beforeAll } from "vitest";
import { RedisMembership } from "./redis-membership.js";

let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

membershipConformance("RedisMembership", {
  open: async (cluster) =>
    new RedisMembership({ redis: server.url, cluster, watchPollIntervalMs: 100, logger: { warn: () => {} } }),
});
