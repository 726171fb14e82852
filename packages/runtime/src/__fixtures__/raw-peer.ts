import { connect as netConnect, type Socket } from "node:net";
import { decode } from "@granary/core";
import { encodeFrame, FrameDecoder } from "../messaging/frame-codec.js";
import { ClientHandshake, HANDSHAKE_MAX_FRAME_BYTES } from "../messaging/handshake.js";
import { resolveTransportOptions } from "../messaging/transport-options.js";

/** A hand-driven transport client: it completes the real handshake, then the test writes raw bytes. */
export interface RawPeer {
  readonly socket: Socket;
  /** Frames the server sent after the handshake, decoded. */
  readonly received: unknown[][];
  isClosed(): boolean;
}

export async function rawPeer(port: number, clusterKey: string, id: string): Promise<RawPeer> {
  const socket = netConnect({ host: "127.0.0.1", port });
  let closed = false;
  socket.on("close", () => {
    closed = true;
  });
  const received: unknown[][] = [];
  const handshake = new ClientHandshake(resolveTransportOptions({ clusterKey, id }), "test");
  await new Promise<void>((resolve, reject) => {
    let step = 0;
    const decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME_BYTES, (body) => {
      if (step === 0) socket.write(encodeFrame(handshake.answerHello(body)));
      else if (step === 1) {
        handshake.finish(body);
        decoder.maxFrameBytes = 1 << 30;
        resolve();
      } else received.push(decode(body) as unknown[]);
      step++;
    });
    socket.on("data", (chunk: Buffer) => decoder.push(chunk));
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  return { socket, received, isClosed: () => closed };
}

/** The start of a frame announcing `frameBytes` of body, with only `sentBytes` of it. */
export function partialFrame(frameBytes: number, sentBytes: number): Buffer {
  const start = Buffer.alloc(4 + sentBytes, 0x90);
  start.writeUInt32BE(frameBytes, 0);
  return start;
}
