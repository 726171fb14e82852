import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameBudget } from "./frame-budget.js";
import { encodeFrames, FrameDecoder } from "./frame-codec.js";

function decodeAll(chunks: Buffer[], maxFrameBytes = 1 << 20, inPlace = false): string[] {
  const out: string[] = [];
  const decoder = new FrameDecoder(maxFrameBytes, (body) => out.push(body.toString("utf8")));
  if (inPlace) decoder.onFrameAt = (source, start, end) => out.push(source.toString("utf8", start, end));
  for (const chunk of chunks) decoder.push(chunk);
  expect(decoder.bufferedBytes).toBe(0);
  return out;
}

describe("frame codec", () => {
  it("framing - bodies come back whole and in order however the stream is split", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 300 })), fc.array(fc.nat(400)), (bodies, cuts) => {
        const buffers = bodies.map((b) => Buffer.from(b, "utf8"));
        const stream = encodeFrames(
          buffers,
          buffers.reduce((n, b) => n + b.length, 0),
        );
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let last = 0;
        for (const point of [...points, stream.length]) {
          chunks.push(stream.subarray(last, point));
          last = point;
        }
        expect(decodeAll(chunks)).toEqual(bodies);
        expect(decodeAll(chunks, 1 << 20, true)).toEqual(bodies);
      }),
    );
  });

  it("limit - an announced length above maxFrameBytes throws before any of the body is buffered", () => {
    const decoder = new FrameDecoder(1024, () => {});
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffff_ffff);

    expect(() => decoder.push(header.subarray(0, 2))).not.toThrow();
    expect(() => decoder.push(header.subarray(2))).toThrow(/above maxFrameBytes \(1024\)/);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("limit - a frame of exactly maxFrameBytes is accepted", () => {
    expect(decodeAll([encodeFrames([Buffer.alloc(1024, 97)], 1024)], 1024)).toEqual(["a".repeat(1024)]);
  });

  it("pause - frames left in a chunk are held while paused and delivered in order on resume", () => {
    const seen: string[] = [];
    const decoder = new FrameDecoder(1024, (body) => {
      seen.push(body.toString());
      if (seen.length === 1) decoder.pause();
    });
    const bodies = ["a", "b", "c", "d"].map((b) => Buffer.from(b));

    decoder.push(encodeFrames(bodies.slice(0, 3), 3));
    decoder.push(encodeFrames(bodies.slice(3), 1));
    expect(seen).toEqual(["a"]);
    decoder.resume();

    expect(seen).toEqual(["a", "b", "c", "d"]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("budget - a frame split over chunks holds its announced size until it completes; whole frames hold nothing", () => {
    const budget = new FrameBudget(3000);
    const seen: number[] = [];
    const decoder = new FrameDecoder(2048, (body) => seen.push(body.length));
    decoder.budget = budget;
    const whole = encodeFrames([Buffer.alloc(2000)], 2000);

    decoder.push(whole);
    expect(budget.usedBytes).toBe(0);
    decoder.push(whole.subarray(0, 100));
    expect(budget.usedBytes).toBe(2000);
    expect(decoder.partialFrame()).toEqual({ frameBytes: 2000, receivedBytes: 96 });
    decoder.push(whole.subarray(100));
    expect(budget.usedBytes).toBe(0);
    expect(seen).toEqual([2000, 2000]);
  });

  it("budget - a frame that would exceed it throws before buffering; discard gives a held frame's room back", () => {
    const budget = new FrameBudget(3000);
    const first = new FrameDecoder(2048, () => {});
    const second = new FrameDecoder(2048, () => {});
    first.budget = budget;
    second.budget = budget;
    const frame = encodeFrames([Buffer.alloc(2000)], 2000);

    first.push(frame.subarray(0, 10));
    expect(() => second.push(frame.subarray(0, 10))).toThrow(/maxBufferedFrameBytes \(3000\)/);
    expect(budget.usedBytes).toBe(2000);
    first.discard();
    expect(budget.usedBytes).toBe(0);
    expect(first.inFrame).toBe(false);
  });
});
