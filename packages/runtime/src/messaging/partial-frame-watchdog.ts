import { ConnectionError } from "@granary/core";
import type { Logger } from "pino";
import type { PeerInfo } from "./connection-types.js";
import { FRAME_PROGRESS_BYTES, type FramedSocket } from "./framed-socket.js";

/**
 * Closes an authenticated connection whose peer started a frame and stopped sending it: no
 * {@link FRAME_PROGRESS_BYTES} of it (nor its end) for `timeoutMs`. Such a frame pins a buffer of its
 * announced size (up to `maxFrameBytes`) and can never be acted on; closing releases the buffer and
 * loses nothing the peer was told about. A large frame on a slow link keeps its connection as long
 * as it keeps arriving. Returns the function that stops watching (on close).
 */
export function watchPartialFrames(
  framed: FramedSocket,
  timeoutMs: number,
  peer: PeerInfo,
  logger: Logger,
): () => void {
  const stalled = (): boolean => !framed.destroyed && framed.partialFrameStalledMs(performance.now()) >= timeoutMs;
  const close = (): void => {
    // Checked again after the poll phase: when our own loop was blocked, bytes that arrived meanwhile
    // are read there, before a peer is blamed for them.
    if (!stalled()) return;
    const frame = framed.decoder.partialFrame() ?? { frameBytes: 0, receivedBytes: 0 };
    logger.warn(
      { peer, bufferedBytes: frame.frameBytes, receivedBytes: frame.receivedBytes, partialFrameTimeoutMs: timeoutMs },
      "transport: peer left a frame incomplete past partialFrameTimeoutMs; disconnected",
    );
    framed.destroy(
      new ConnectionError(
        `peer ${peer.address} sent ${frame.receivedBytes} bytes of a ${frame.frameBytes}-byte frame, then nothing for ${timeoutMs} ms (partialFrameTimeoutMs); disconnected`,
        { data: { ...frame, partialFrameTimeoutMs: timeoutMs } },
      ),
    );
  };
  // A quarter of the timeout between looks: a stalled frame is found between 1 and 1.25 timeouts.
  const timer = setInterval(
    () => {
      if (stalled()) setImmediate(close);
    },
    Math.max(1, Math.ceil(timeoutMs / 4)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
