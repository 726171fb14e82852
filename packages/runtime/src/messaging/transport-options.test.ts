import { InvalidConfigurationError } from "@granary/core";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_BUFFERED_FRAME_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_OUTSTANDING_BYTES,
  DEFAULT_PARTIAL_FRAME_TIMEOUT_MS,
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
    expect(DEFAULT_PARTIAL_FRAME_TIMEOUT_MS).toBe(30_000);
    expect(DEFAULT_MAX_BUFFERED_FRAME_BYTES).toBe(128 * 1024 * 1024);
    expect(resolved).toMatchObject({
      clusterKey: Buffer.from(clusterKey),
      allowUnauthenticated: false,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      maxOutstandingBytes: DEFAULT_MAX_OUTSTANDING_BYTES,
      handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
      closeGraceMs: DEFAULT_CLOSE_GRACE_MS,
      partialFrameTimeoutMs: DEFAULT_PARTIAL_FRAME_TIMEOUT_MS,
      maxBufferedFrameBytes: DEFAULT_MAX_BUFFERED_FRAME_BYTES,
      role: "client",
    });
    expect(resolved.id).toMatch(/^client-[0-9a-f-]{36}$/);
    expect(resolved.logger.level).toBe("silent");
    expect(resolved.errorClasses.size).toBe(0);
    expect(resolveTransportOptions({ clusterKey }, "silo").role).toBe("silo");
    expect(resolveListenAddress({})).toEqual({ host: DEFAULT_HOST, port: 0 });
    // A maxFrameBytes above the default budget raises the budget's default with it.
    expect(resolveTransportOptions({ clusterKey, maxFrameBytes: 2 ** 28 }).maxBufferedFrameBytes).toBe(2 ** 28);
  });

  it("buffered frames - maxBufferedFrameBytes below maxFrameBytes is refused: the largest frame could never arrive", () => {
    expect(() => resolveTransportOptions({ clusterKey, maxFrameBytes: 2048, maxBufferedFrameBytes: 2047 })).toThrow(
      /`maxBufferedFrameBytes`: is 2047, below maxFrameBytes \(2048\)/,
    );
    expect(resolveTransportOptions({ clusterKey, maxFrameBytes: 2048, maxBufferedFrameBytes: 2048 })).toMatchObject({
      maxBufferedFrameBytes: 2048,
    });
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
      ["partialFrameTimeoutMs", () => resolveTransportOptions({ clusterKey, partialFrameTimeoutMs: 0 })],
      ["maxBufferedFrameBytes", () => resolveTransportOptions({ clusterKey, maxBufferedFrameBytes: 1.5 })],
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
