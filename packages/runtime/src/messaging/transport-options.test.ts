import { InvalidConfigurationError } from "@granary/core";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_OUTSTANDING_BYTES,
  resolveConnectAddress,
  resolveListenAddress,
  resolveTransportOptions,
} from "./transport-options.js";

const clusterKey = "test-cluster-key-0123456789abcdef";

describe("transport options", () => {
  it("defaults - every option has its documented default", () => {
    const resolved = resolveTransportOptions({ clusterKey });

    expect(DEFAULT_MAX_FRAME_BYTES).toBe(16 * 1024 * 1024);
    expect(DEFAULT_MAX_OUTSTANDING_BYTES).toBe(8 * 1024 * 1024);
    expect(DEFAULT_HANDSHAKE_TIMEOUT_MS).toBe(5_000);
    expect(DEFAULT_CLOSE_GRACE_MS).toBe(5_000);
    expect(resolved).toMatchObject({
      clusterKey: Buffer.from(clusterKey),
      allowUnauthenticated: false,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      maxOutstandingBytes: DEFAULT_MAX_OUTSTANDING_BYTES,
      handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
      closeGraceMs: DEFAULT_CLOSE_GRACE_MS,
      role: "client",
    });
    expect(resolved.id).toMatch(/^client-[0-9a-f-]{36}$/);
    expect(resolved.logger.level).toBe("silent");
    expect(resolved.errorClasses.size).toBe(0);
    expect(resolveTransportOptions({ clusterKey }, "silo").role).toBe("silo");
    expect(resolveListenAddress({})).toEqual({ host: DEFAULT_HOST, port: 0 });
  });

  it("cluster key - required unless allowUnauthenticated is set, and never both", () => {
    expect(() => resolveTransportOptions({})).toThrow(/`clusterKey`: is required/);
    expect(resolveTransportOptions({ allowUnauthenticated: true }).clusterKey).toBeUndefined();
    expect(() => resolveTransportOptions({ clusterKey, allowUnauthenticated: true })).toThrow(
      /`allowUnauthenticated`: conflicts with `clusterKey`/,
    );
    expect(() => resolveTransportOptions({ clusterKey: "short" })).toThrow(/at least 16 random bytes/);
    expect(resolveTransportOptions({ clusterKey: new Uint8Array(32) }).clusterKey).toHaveLength(32);
  });

  it("validation - an invalid value is an InvalidConfigurationError naming the option", () => {
    const cases: Array<[string, () => unknown]> = [
      ["maxFrameBytes", () => resolveTransportOptions({ clusterKey, maxFrameBytes: 10 })],
      ["maxFrameBytes", () => resolveTransportOptions({ clusterKey, maxFrameBytes: 1.5e3 + 0.5 })],
      ["maxOutstandingBytes", () => resolveTransportOptions({ clusterKey, maxOutstandingBytes: -1 })],
      ["handshakeTimeoutMs", () => resolveTransportOptions({ clusterKey, handshakeTimeoutMs: 0 })],
      ["closeGraceMs", () => resolveTransportOptions({ clusterKey, closeGraceMs: Number.NaN })],
      ["id", () => resolveTransportOptions({ clusterKey, id: "" })],
      ["role", () => resolveTransportOptions({ clusterKey, role: "admin" as "silo" })],
      ["port", () => resolveListenAddress({ port: 70_000 })],
      ["port", () => resolveConnectAddress({ host: "h", port: 0 })],
      ["host", () => resolveConnectAddress({ host: "", port: 1 })],
    ];
    for (const [option, resolve] of cases) {
      let error: unknown;
      try {
        resolve();
      } catch (e) {
        error = e;
      }
      expect(error, option).toBeInstanceOf(InvalidConfigurationError);
      expect(error, option).toMatchObject({ option });
    }
  });
});
