import { ConnectionError } from "@granary/core";
import type { FrameBudget } from "./frame-budget.js";

/**
 * Framing: every frame is a 4-byte big-endian body length followed by the body (msgpack).
 * The decoder checks the announced length before buffering a byte of the body, so a peer cannot
 * make us allocate more than `maxFrameBytes`.
 */
export const FRAME_HEADER_BYTES = 4;

/** Writes `bodies` as consecutive frames into one buffer (one copy, one socket write). */
export function encodeFrames(bodies: readonly Buffer[], totalBodyBytes: number): Buffer {
  const out = Buffer.allocUnsafe(totalBodyBytes + bodies.length * FRAME_HEADER_BYTES);
  let offset = 0;
  for (const body of bodies) {
    out.writeUInt32BE(body.length, offset);
    body.copy(out, offset + FRAME_HEADER_BYTES);
    offset += FRAME_HEADER_BYTES + body.length;
  }
  return out;
}

export function encodeFrame(body: Buffer): Buffer {
  return encodeFrames([body], body.length);
}

/**
 * Incremental frame reader. Feed it socket chunks with {@link push}; it calls `onFrame` once per
 * complete body, in order. Throws a ConnectionError when a peer announces a frame above the limit.
 * `onFrame` and `maxFrameBytes` may be changed between (or during) pushes, e.g. after a handshake.
 */
export class FrameDecoder {
  onFrame: (body: Buffer) => void;
  /**
   * When set, receives each frame as a range of the buffer it arrived in (`source[start, end)`)
   * instead of `onFrame`: no Buffer is allocated per frame, and a decoder can read in place. The
   * range is only to be read during the call.
   */
  onFrameAt: ((source: Buffer, start: number, end: number) => void) | undefined;
  maxFrameBytes: number;
  /**
   * Shared bound on the buffers of incomplete frames; a frame that would exceed it throws (see
   * {@link FrameBudget.reserve}). Undefined: unbounded (one frame of at most `maxFrameBytes`).
   */
  budget: FrameBudget | undefined;
  /** Taken from `budget` for `#body`. */
  #reserved = 0;
  #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerFilled = 0;
  #body: Buffer | undefined;
  #bodyFilled = 0;
  #paused = false;
  /** The rest of a chunk whose frames were not delivered because of {@link pause}. */
  #held: Buffer | undefined;

  constructor(maxFrameBytes: number, onFrame: (body: Buffer) => void) {
    this.maxFrameBytes = maxFrameBytes;
    this.onFrame = onFrame;
  }

  /** Bytes held between pushes: an incomplete frame, plus what {@link pause} held back. */
  get bufferedBytes(): number {
    return this.#headerFilled + this.#bodyFilled + (this.#held?.length ?? 0);
  }

  /** True while a frame has begun arriving and is not complete (part of its length prefix counts). */
  get inFrame(): boolean {
    return this.#headerFilled > 0 || this.#body !== undefined;
  }

  /**
   * The frame being read: its announced body length (0 while only part of the length prefix came)
   * and how much of its body arrived. Undefined between frames.
   */
  partialFrame(): { frameBytes: number; receivedBytes: number } | undefined {
    if (!this.inFrame) return undefined;
    return { frameBytes: this.#body?.length ?? 0, receivedBytes: this.#bodyFilled };
  }

  /** Drops the incomplete frame and what was held back, giving their room back: the socket is gone. */
  discard(): void {
    this.#body = undefined;
    this.#bodyFilled = 0;
    this.#headerFilled = 0;
    this.#held = undefined;
    this.#release();
  }

  #release(): void {
    if (this.#reserved === 0) return;
    this.budget?.release(this.#reserved);
    this.#reserved = 0;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Stops delivering frames, even those left in the chunk being decoded (they are held, not lost).
   * Pause the socket too, or pushed chunks pile up here.
   */
  pause(): void {
    this.#paused = true;
  }

  /** Delivers what was held back, then goes on with later pushes (unless paused again meanwhile). */
  resume(): void {
    this.#paused = false;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.push(held);
  }

  push(chunk: Buffer): void {
    if (this.#held !== undefined) {
      this.#held = Buffer.concat([this.#held, chunk]);
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#paused) {
        this.#held = chunk.subarray(offset);
        return;
      }
      if (this.#body === undefined) {
        let length: number;
        if (this.#headerFilled === 0 && chunk.length - offset >= FRAME_HEADER_BYTES) {
          length = chunk.readUInt32BE(offset);
          offset += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.#headerFilled, chunk.length - offset);
          chunk.copy(this.#header, this.#headerFilled, offset, offset + take);
          this.#headerFilled += take;
          offset += take;
          if (this.#headerFilled < FRAME_HEADER_BYTES) return;
          this.#headerFilled = 0;
          length = this.#header.readUInt32BE(0);
        }
        if (length > this.maxFrameBytes) {
          throw new ConnectionError(
            `peer announced a ${length}-byte frame, above maxFrameBytes (${this.maxFrameBytes}); disconnected`,
            { data: { frameBytes: length, maxFrameBytes: this.maxFrameBytes } },
          );
        }
        if (chunk.length - offset >= length) {
          // Whole body in this chunk: hand out a range or a view, no copy.
          const start = offset;
          offset += length;
          if (this.onFrameAt !== undefined) this.onFrameAt(chunk, start, offset);
          else this.onFrame(chunk.subarray(start, offset));
          continue;
        }
        if (this.budget !== undefined) {
          this.budget.reserve(length);
          this.#reserved = length;
        }
        this.#body = Buffer.allocUnsafe(length);
        this.#bodyFilled = 0;
      }
      const take = Math.min(this.#body.length - this.#bodyFilled, chunk.length - offset);
      chunk.copy(this.#body, this.#bodyFilled, offset, offset + take);
      this.#bodyFilled += take;
      offset += take;
      if (this.#bodyFilled === this.#body.length) {
        const body = this.#body;
        this.#body = undefined;
        this.#bodyFilled = 0;
        this.#release();
        if (this.onFrameAt !== undefined) this.onFrameAt(body, 0, body.length);
        else this.onFrame(body);
      }
    }
  }
}
