import { describe, expect, it } from "vitest";
import { DEFAULT_LEASE_MS, MIN_LEASE_MS, resolveClusterOptions } from "./cluster-options.js";

const base = { redis: "redis://127.0.0.1:6379", clusterKey: "cluster-options-test-key-0123456789" };

describe("cluster options", () => {
  it("a lease too short for the heartbeat is refused, naming leaseMs and the fix", () => {
    for (const leaseMs of [1, 250, MIN_LEASE_MS - 1]) {
      expect(() => resolveClusterOptions({ ...base, leaseMs }, {})).toThrow(/`leaseMs`.*heartbeat.*use at least 1000/);
    }
    expect(() => resolveClusterOptions(base, { GRANARY_LEASE_MS: "200" })).toThrow(/`leaseMs`/);
  });

  it("the default lease and the shortest allowed are accepted", () => {
    expect(resolveClusterOptions(base, {})?.leaseMs).toBe(DEFAULT_LEASE_MS);
    expect(resolveClusterOptions({ ...base, leaseMs: MIN_LEASE_MS }, {})?.leaseMs).toBe(MIN_LEASE_MS);
  });

  it("advertisedPort defaults to the port listened on; a bad one is refused naming the option", () => {
    expect(resolveClusterOptions({ ...base, port: 0 }, {})?.advertisedPort).toBeUndefined();
    expect(resolveClusterOptions({ ...base, advertisedPort: 20_000 }, {})?.advertisedPort).toBe(20_000);
    expect(resolveClusterOptions(base, { GRANARY_ADVERTISED_PORT: "20001" })?.advertisedPort).toBe(20_001);
    expect(() => resolveClusterOptions({ ...base, advertisedPort: 0 }, {})).toThrow(/`advertisedPort`/);
  });

  it("standalone (no redis) resolves to no cluster, even with a port (a standalone listener)", () => {
    expect(resolveClusterOptions({ port: 0, clusterKey: base.clusterKey }, {})).toBeUndefined();
  });
});
