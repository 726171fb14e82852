import { ErrorCode, Upcasters } from "@granary/core";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CLUSTER,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_NAMESPACE,
  DEFAULT_WATCH_POLL_INTERVAL_MS,
  emitWarningLogger,
  resolveRedisOptions,
} from "./redis-options.js";

const invalid = (options: unknown) => {
  try {
    resolveRedisOptions(options as Parameters<typeof resolveRedisOptions>[0]);
  } catch (error) {
    return error as { code: string; option: string; message: string };
  }
  throw new Error("expected the options to be rejected");
};

describe("resolveRedisOptions", () => {
  it("fills in the defaults", () => {
    expect(resolveRedisOptions({ redis: "redis://127.0.0.1:6379" })).toEqual({
      redis: "redis://127.0.0.1:6379",
      keyPrefix: DEFAULT_KEY_PREFIX,
      namespace: DEFAULT_NAMESPACE,
      cluster: DEFAULT_CLUSTER,
      upcasters: undefined,
      logger: emitWarningLogger,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      commandTimeoutMs: DEFAULT_COMMAND_TIMEOUT_MS,
      watchPollIntervalMs: DEFAULT_WATCH_POLL_INTERVAL_MS,
      allowDataLossWithoutAof: false,
    });
    expect([DEFAULT_KEY_PREFIX, DEFAULT_NAMESPACE, DEFAULT_CLUSTER]).toEqual(["granary", "default", "default"]);
    expect([DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_WATCH_POLL_INTERVAL_MS]).toEqual([
      5_000, 5_000, 2_000,
    ]);
  });

  it("keeps what is given: rediss URLs, unix sockets, ioredis instances, upcasters, loggers", () => {
    const client = new Redis({ lazyConnect: true });
    const upcasters = new Upcasters();
    const logger = { warn: () => {} };

    expect(resolveRedisOptions({ redis: "rediss://user:pw@host:6380/2" }).redis).toBe("rediss://user:pw@host:6380/2");
    expect(resolveRedisOptions({ redis: "/var/run/redis.sock" }).redis).toBe("/var/run/redis.sock");
    expect(resolveRedisOptions({ redis: client, upcasters, logger, namespace: "t-1" })).toMatchObject({
      redis: client,
      upcasters,
      logger,
      namespace: "t-1",
    });
    client.disconnect();
  });

  it("rejects invalid options with InvalidConfigurationError naming the option", () => {
    const cases: [unknown, string][] = [
      [{}, "redis"],
      [{ redis: "localhost:6379" }, "redis"],
      [{ redis: "http://localhost" }, "redis"],
      [{ redis: { host: "localhost" } }, "redis"],
      [{ redis: "redis://h", keyPrefix: "" }, "keyPrefix"],
      [{ redis: "redis://h", namespace: "a{b}" }, "namespace"],
      [{ redis: "redis://h", cluster: "with space" }, "cluster"],
      [{ redis: "redis://h", connectTimeoutMs: 0 }, "connectTimeoutMs"],
      [{ redis: "redis://h", commandTimeoutMs: Number.NaN }, "commandTimeoutMs"],
      [{ redis: "redis://h", watchPollIntervalMs: -1 }, "watchPollIntervalMs"],
      [{ redis: "redis://h", logger: console.log }, "logger"],
      [{ redis: "redis://h", upcasters: {} }, "upcasters"],
    ];
    for (const [options, option] of cases) {
      const error = invalid(options);
      expect(error).toMatchObject({ code: ErrorCode.InvalidConfiguration, option });
      expect(error.message).toContain(`\`${option}\``);
    }
    expect(invalid({ redis: "localhost:6379" }).message).toContain("redis://127.0.0.1:6379");
  });
});
