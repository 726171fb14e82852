import { ErrorCode } from "@granary/core";
import { describe, expect, it } from "vitest";
import { DEFAULT_OWNER_CACHE_SIZE, resolveClientOptions } from "../client/client-options.js";
import { resolveClusterOptions } from "../cluster/cluster-options.js";
import { resolveStandaloneListen } from "../silo/standalone-listen.js";
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CLUSTER_NAME } from "./defaults.js";

describe("silo and client options agree", () => {
  it("a Unix socket Redis URL is accepted by the silo and the client alike (as by the Redis adapters)", () => {
    const redis = "/run/redis/redis.sock";

    expect(resolveClusterOptions({ redis, clusterKey: "k" }, {})?.redis).toBe(redis);
    expect(resolveClientOptions({ redis, clusterKey: "k" }, {}).redis).toBe(redis);
  });

  it("listener key - a clustered silo and a standalone silo with a port take the key from clusterKey, else GRANARY_CLUSTER_KEY, and refuse to listen without one unless allowUnauthenticated", () => {
    const cluster = (options: object, env = {}) => resolveClusterOptions({ redis: "redis://h:6379", ...options }, env);
    const standalone = (options: object, env = {}) => resolveStandaloneListen({ port: 0, ...options }, env);

    for (const [resolve, why] of [
      [cluster, "cluster mode needs a shared key"],
      [standalone, "a standalone silo that accepts clients on `port` needs a shared key"],
    ] as const) {
      expect(resolve({}, { GRANARY_CLUSTER_KEY: "from-env" })).toMatchObject({ clusterKey: "from-env" });
      expect(resolve({ clusterKey: "k" }, { GRANARY_CLUSTER_KEY: "from-env" })).toMatchObject({ clusterKey: "k" });
      expect(resolve({ allowUnauthenticated: true })).toMatchObject({ allowUnauthenticated: true });
      expect(() => resolve({}, { GRANARY_CLUSTER_KEY: "" })).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidConfiguration, option: "clusterKey" }),
      );
      expect(() => resolve({})).toThrow(why);
    }
  });

  it("a Redis URL neither accepts is refused by both with the same option named", () => {
    for (const resolve of [
      () => resolveClusterOptions({ redis: "http://h:6379", clusterKey: "k" }, {}),
      () => resolveClientOptions({ redis: "http://h:6379", clusterKey: "k" }, {}),
    ]) {
      expect(resolve).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfiguration, option: "redis" }));
    }
  });

  it("the client's defaults are the shared constants", () => {
    const client = resolveClientOptions({ gateways: ["[::1]:11111"], allowUnauthenticated: true }, {});

    expect(client.callTimeoutMs).toBe(DEFAULT_CALL_TIMEOUT_MS);
    expect(client.clusterName).toBe(DEFAULT_CLUSTER_NAME);
    expect(client.ownerCacheSize).toBe(DEFAULT_OWNER_CACHE_SIZE);
  });

  it("client - ownerCacheSize 0 turns owner routing off; a negative or fractional size is refused by name", () => {
    const base = { gateways: ["127.0.0.1:11111"], allowUnauthenticated: true };

    expect(resolveClientOptions({ ...base, ownerCacheSize: 0 }, {}).ownerCacheSize).toBe(0);
    for (const ownerCacheSize of [-1, 1.5]) {
      expect(() => resolveClientOptions({ ...base, ownerCacheSize }, {})).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidConfiguration, option: "ownerCacheSize" }),
      );
    }
  });
});
