import { decode, encode } from "@granary/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFrames } from "./frame-codec.js";
import { decodeArray, decodeArrayAt } from "./protocol.js";

describe("protocol", () => {
  it("in-place decoding - frames read inside a chunk decode exactly as core's codec decodes them", () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Number(n)),
      fc.date({ noInvalidDate: true }),
      fc.constant(undefined),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        (frames) => {
          const bodies = frames.map((frame) => encode(frame));
          const chunk = encodeFrames(
            bodies,
            bodies.reduce((n, b) => n + b.length, 0),
          );
          let offset = 0;
          for (const body of bodies) {
            const start = offset + 4;
            const inPlace = decodeArrayAt(chunk, start, start + body.length);
            expect(inPlace).toEqual(decode(body));
            expect(inPlace).toEqual(decodeArray(body));
            offset = start + body.length;
          }
        },
      ),
    );
  });

  it("in-place decoding - a frame that is not a message array, or not msgpack, is a protocol error", () => {
    // [1, 2], "text", an array header announcing 3 items followed by only 1, then an empty array.
    const chunk = Buffer.concat([encode([1, 2]), encode("text"), Buffer.from([0x93]), encode([])]);
    const first = encode([1, 2]).length;
    const second = first + encode("text").length;
    expect(decodeArrayAt(chunk, 0, first)).toEqual([1, 2]);
    expect(() => decodeArrayAt(chunk, first, second)).toThrow(/not a message array/);
    expect(() => decodeArrayAt(chunk, second, second + 1)).toThrow(/not valid msgpack/);
    expect(() => decodeArrayAt(chunk, second + 1, chunk.length)).toThrow(/not a message array/);
    expect(() => decodeArrayAt(chunk, second, chunk.length)).toThrow(/not valid msgpack/);
    expect(() => decodeArrayAt(chunk, 0, 0)).toThrow(/not valid msgpack/);
    // A frame cut short does not read on into the bytes that follow it.
    expect(() => decodeArrayAt(chunk, 0, first - 1)).toThrow(/not valid msgpack/);
  });
});
