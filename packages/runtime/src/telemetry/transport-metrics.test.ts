import { MemoryEventStore } from "@granary/core";
import { metrics } from "@opentelemetry/api";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Counter } from "../__fixtures__/actors.js";
import { fakeMeters } from "../__fixtures__/fake-meters.js";
import { partialFrame, rawPeer } from "../__fixtures__/raw-peer.js";
import { Silo } from "../silo/silo.js";

const clusterKey = "test-cluster-key-0123456789abcdef";
const MiB = 1024 * 1024;

afterEach(() => {
  metrics.disable();
});

describe("transport metrics", () => {
  it("a silo reports its listener's connections and partial-frame bytes, and applies its partial-frame limits", async () => {
    const { provider, values: collect } = fakeMeters();
    metrics.setGlobalMeterProvider(provider as never);
    const silo = await Silo.start({
      actors: [Counter],
      store: new MemoryEventStore(),
      logger: pino({ level: "silent" }),
      handleSignals: false,
      port: 0,
      clusterKey,
      partialFrameTimeoutMs: 200,
      maxBufferedFrameBytes: 16 * MiB,
    });
    try {
      const peer = await rawPeer(silo.address!.port, clusterKey, "gauge-client");
      peer.socket.write(partialFrame(MiB, 10));

      await expect.poll(() => collect("granary.transport.buffered_frame_bytes")).toEqual([MiB]);
      expect(collect("granary.transport.connections")).toEqual([1]);
      // The silo's partialFrameTimeoutMs reached its listener: the stalled peer is dropped.
      await expect.poll(() => peer.isClosed(), { timeout: 10_000 }).toBe(true);
      await expect.poll(() => collect("granary.transport.buffered_frame_bytes")).toEqual([0]);
      await expect.poll(() => collect("granary.transport.connections")).toEqual([0]);
    } finally {
      await silo.stop();
    }
    expect(collect("granary.transport.connections")).toEqual([]);
  });
});
