import { missingExports, pendingScenario } from "../lib/pending.js";

/**
 * Activation of new actors across a 3-silo cluster against raw Lua register round trips; the cached
 * hot path must make no Redis round trip. Target: ≥ 50% of raw. Needs RedisDirectory and cluster mode.
 */
export const directory = pendingScenario("directory", "Directory: activating new actors across 3 silos", async () => {
  const redis = await missingExports(() => import("@granary/redis"), "@granary/redis", ["RedisDirectory"]);
  const runtime = await missingExports(() => import("@granary/runtime"), "@granary/runtime", ["Client"]);
  return redis ?? runtime;
});
