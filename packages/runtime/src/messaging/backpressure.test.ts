import { createServer, connect as netConnect, type Socket } from "node:net";
import { encode } from "@granary/core";
import { describe, expect, it } from "vitest";
import { clusterKey, useCleanup } from "../__fixtures__/transport-harness.js";
import { connectTransport } from "./connect.js";
import { encodeFrame, FrameDecoder } from "./frame-codec.js";
import { ClientHandshake, HANDSHAKE_MAX_FRAME_BYTES, ServerHandshake } from "./handshake.js";
import { MessageType } from "./protocol.js";
import { listenTransport } from "./server.js";
import { resolveTransportOptions } from "./transport-options.js";

const cleanup = useCleanup();
const bound = 256 * 1024;
const frame = 64 * 1024;

describe("backpressure", () => {
  it("a peer that stops reading makes send() and request() wait, with the writer's buffer bounded", async () => {
    // Given a server that authenticates us, then stops reading its socket.
    let serverSocket!: Socket;
    let framesReceived = 0;
    const server = createServer((socket) => {
      serverSocket = socket;
      const handshake = new ServerHandshake(resolveTransportOptions({ clusterKey }, "silo"));
      const decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME_BYTES, (body) => {
        socket.write(encodeFrame((handshake.receive(body) as { reply: Buffer }).reply));
        decoder.maxFrameBytes = 1 << 24;
        decoder.onFrame = () => framesReceived++;
        socket.pause();
      });
      socket.on("data", (chunk: Buffer) => decoder.push(chunk));
      socket.on("error", () => {});
      socket.write(encodeFrame(handshake.hello()));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as { port: number }).port;
    const connection = await connectTransport({ host: "127.0.0.1", port, clusterKey, maxOutstandingBytes: bound });
    cleanup(() => connection.destroy());

    // When we send far more than the kernel's socket buffers and our bound can hold,
    const total = 400;
    const payload = Buffer.alloc(frame, 1);
    let queued = 0;
    const sends = Array.from({ length: total }, () => connection.send(payload).then(() => queued++));
    const request = connection.request(payload).catch((e: unknown) => e);
    // (the writer waits once its outstanding bytes reach the bound: the kernel's buffers are full)
    await expect.poll(() => connection.stats().outstandingBytes, { timeout: 20_000 }).toBeGreaterThanOrEqual(bound);

    // Then the writer stops at the bound and the rest wait instead of piling up in memory,
    const stuck = connection.stats();
    expect(queued).toBeLessThan(total);
    expect(stuck.outstandingBytes).toBeLessThanOrEqual(bound + frame + 64);
    expect(stuck.bytesWritten).toBeLessThan(total * frame);
    expect(stuck.requestsInFlight).toBe(1);

    // and everything flows once the peer reads again.
    serverSocket.resume();
    await Promise.all(sends);
    await expect.poll(() => framesReceived, { timeout: 20_000 }).toBe(total + 1);
    expect(connection.stats().outstandingBytes).toBe(0);
    await connection.destroy();
    expect(await request).toMatchObject({ code: "CONNECTION_ERROR", retryable: false });
  });

  it("a server stops reading requests from a peer that does not read its responses", async () => {
    const server = await listenTransport({
      clusterKey,
      maxOutstandingBytes: bound,
      onRequest: () => Buffer.alloc(frame, 2),
    });
    cleanup(() => server.close());
    // A hand-driven client that authenticates, then writes requests and never reads.
    const socket = netConnect({ host: "127.0.0.1", port: server.address.port });
    cleanup(() => socket.destroy());
    socket.on("error", () => {});
    const handshake = new ClientHandshake(resolveTransportOptions({ clusterKey }), "test");
    let responses = 0;
    await new Promise<void>((resolve) => {
      let step = 0;
      const decoder = new FrameDecoder(1 << 24, (body) => {
        if (step === 0) socket.write(encodeFrame(handshake.answerHello(body)));
        else if (step === 1) {
          handshake.finish(body);
          resolve();
        } else responses++;
        step++;
      });
      socket.on("data", (chunk: Buffer) => decoder.push(chunk));
    });
    socket.pause();

    const total = 2_000;
    const requests = Buffer.concat(
      Array.from({ length: total }, (_, id) => encodeFrame(encode([MessageType.Request, id + 1, id]))),
    );
    socket.write(requests);
    const peer = [...server.connections][0]!;
    // The server stops reading requests once its responses' outstanding bytes reach the bound.
    await expect.poll(() => peer.stats().outstandingBytes, { timeout: 20_000 }).toBeGreaterThanOrEqual(bound);

    const stuck = peer.stats();
    expect(stuck.outstandingBytes).toBeLessThanOrEqual(bound + 2 * frame);
    expect(stuck.framesRead).toBeLessThan(total);
    expect(stuck.bytesWritten).toBeLessThan(total * frame);

    socket.resume();
    await expect.poll(() => responses, { timeout: 20_000 }).toBe(total);
  });
});
