import { encode } from "@granary/core";
import { describe, expect, it } from "vitest";
import { rawPeer as connectRawPeer, partialFrame, type RawPeer } from "../__fixtures__/raw-peer.js";
import { captureLogs, clusterKey, useTransport } from "../__fixtures__/transport-harness.js";
import { connectTransport } from "./connect.js";
import { encodeFrame } from "./frame-codec.js";
import { MessageType } from "./protocol.js";
import type { TransportServer } from "./server.js";

const { cleanup, serve } = useTransport();
const MiB = 1024 * 1024;

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  peer?: { id: string; role: string; address: string };
  bufferedBytes?: number;
  receivedBytes?: number;
  partialFrameTimeoutMs?: number;
  maxBufferedFrameBytes?: number;
}

async function rawPeer(server: TransportServer, id: string): Promise<RawPeer> {
  const peer = await connectRawPeer(server.address.port, clusterKey, id);
  cleanup(() => peer.socket.destroy());
  return peer;
}

describe("partial frames", () => {
  it("a peer that authenticates, starts a frame and stalls is disconnected after partialFrameTimeoutMs, logged, and its buffer released", async () => {
    // Given a server with a short partial-frame timeout, an idle bystander and an authenticated peer,
    const logs = captureLogs<LogLine>();
    const server = await serve({ partialFrameTimeoutMs: 200, logger: logs.logger });
    const bystander = await connectTransport({ host: "127.0.0.1", port: server.address.port, clusterKey });
    cleanup(() => bystander.destroy());
    const stalled = await rawPeer(server, "stalling-client");

    // when the peer announces a 256 KiB frame, sends 1,000 bytes of it and stops,
    stalled.socket.write(partialFrame(256 * 1024, 1_000));
    await expect.poll(() => server.bufferedFrameBytes).toBe(256 * 1024);

    // then it is disconnected, the server's buffer for it is released,
    await expect.poll(() => stalled.isClosed(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => server.bufferedFrameBytes).toBe(0);
    expect(server.connections.size).toBe(1);
    // the warning names the peer and what it left pending,
    const warning = logs.warnings().find((line) => line.msg.includes("partialFrameTimeoutMs"));
    expect(warning).toMatchObject({
      peer: { id: "stalling-client", role: "client" },
      bufferedBytes: 256 * 1024,
      receivedBytes: 1_000,
      partialFrameTimeoutMs: 200,
    });
    // and a connection that was idle all along (no frame started) is untouched.
    expect(await bystander.request("still here")).toBe("still here");
  });

  it("a large frame that arrives slowly but steadily is not cut, however long it takes in total", async () => {
    const server = await serve({ partialFrameTimeoutMs: 1_000, onRequest: (payload) => (payload as Buffer).length });
    const peer = await rawPeer(server, "slow-link");
    const frame = encodeFrame(encode([MessageType.Request, 1, Buffer.alloc(2 * MiB, 7)]));

    // 64 KiB every 50 ms: the whole frame takes longer than partialFrameTimeoutMs, each piece far less.
    for (let offset = 0; offset < frame.length; offset += 64 * 1024) {
      peer.socket.write(frame.subarray(offset, offset + 64 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    await expect.poll(() => peer.received, { timeout: 10_000 }).toEqual([[MessageType.Response, 1, 2 * MiB]]);
    expect(peer.isClosed()).toBe(false);
    expect(server.bufferedFrameBytes).toBe(0);
  });

  it("N stalled peers cannot make the server hold more than maxBufferedFrameBytes; the peer asking for more is refused and logged", async () => {
    // Given a server that may hold 4 MiB of partial frames, and 40 authenticated peers,
    const logs = captureLogs<LogLine>();
    const server = await serve({
      maxFrameBytes: MiB,
      maxBufferedFrameBytes: 4 * MiB,
      partialFrameTimeoutMs: 600_000,
      logger: logs.logger,
    });
    const bystander = await connectTransport({ host: "127.0.0.1", port: server.address.port, clusterKey });
    cleanup(() => bystander.destroy());
    const peers = await Promise.all(Array.from({ length: 40 }, (_, i) => rawPeer(server, `hog-${i}`)));

    // when each starts a 1 MiB frame and stalls (40 MiB announced),
    for (const peer of peers) peer.socket.write(partialFrame(MiB, 1));

    // then four fit, the other 36 are disconnected with a warning naming the limit,
    await expect.poll(() => peers.filter((peer) => peer.isClosed()).length, { timeout: 20_000 }).toBe(36);
    expect(server.bufferedFrameBytes).toBe(4 * MiB);
    const refusals = logs.warnings().filter((line) => line.reason?.includes("maxBufferedFrameBytes"));
    expect(refusals).toHaveLength(36);
    expect(refusals[0]).toMatchObject({ peer: { role: "client" }, maxBufferedFrameBytes: 4 * MiB });
    // small calls (whole frames, nothing held) still go through,
    expect(await bystander.request("small")).toBe("small");

    // and the budget comes back when the holders leave.
    for (const peer of peers) peer.socket.destroy();
    await expect.poll(() => server.bufferedFrameBytes).toBe(0);
    await expect.poll(() => server.connections.size).toBe(1);
  });
});
