import { missingExports, pendingScenario } from "../lib/pending.js";

/**
 * Event-sourced command on the Redis store against the raw Lua append script run with EVALSHA.
 * Target: ≥ 50% of raw. Needs RedisEventStore (@granary/redis) and startRedisServer (@granary/testing).
 */
export const esRedis = pendingScenario("es-redis", "Event-sourced command, RedisEventStore", async () => {
  const store = await missingExports(() => import("@granary/redis"), "@granary/redis", ["RedisEventStore"]);
  return store;
});
