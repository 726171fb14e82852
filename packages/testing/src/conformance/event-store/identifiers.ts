import { ErrorCode, type EventStore, MAX_STREAM_NAME_BYTES } from "@granary/core";
import { expect, it } from "vitest";
import { makeEvent, makeEvents, rejectionOf } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

/** Nested `depth` levels deep: { a: { a: ... } }. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

const BAD_STREAMS: readonly [string, string][] = [
  ["a lone high surrogate", "T/a\uD800"],
  ["a lone low surrogate", "T/a\uDC00"],
  ["NUL", "T/a\u0000b"],
  ["10 KB", `T/${"x".repeat(10_240)}`],
  ["empty", ""],
];

/** Stream names and payloads every store refuses the same way, before its database can answer. */
export function identifierTests(ctx: EventStoreSuiteContext): void {
  it.each(BAD_STREAMS)(
    "identifiers - a stream name with %s is refused with INVALID_ARGUMENT by append and reads",
    async (_, stream) => {
      const store = await ctx.open();
      const append = await rejectionOf(store.append(stream, 0, [makeEvent(stream, 1)]));
      expect(append).toMatchObject({ code: ErrorCode.InvalidArgument, data: { rule: "stream-name" } });
      for (const read of [
        () => store.read(stream),
        () => store.readWithErrors(stream),
        () => store.latestVersion(stream),
        () => store.highestEpoch(stream),
        () => store.tombstone(stream),
        () => store.purge(stream, { reason: "test", requestedBy: "test" }),
      ]) {
        expect(await rejectionOf(read())).toMatchObject({ code: ErrorCode.InvalidArgument });
      }
    },
  );

  it('identifiers - "a\\uD800" and "a\\uDBFF" do not alias one stream: both are refused, nothing is written', async () => {
    const store = await ctx.open();
    await rejectionOf(store.append("T/a\uD800", 0, [makeEvent("T/a\uD800", 1)]));
    await rejectionOf(store.append("T/a\uDBFF", 0, [makeEvent("T/a\uDBFF", 1)]));
    expect(await store.readAll(0)).toEqual([]);
  });

  it("identifiers - the longest stream name allowed (multi-byte characters) round-trips exactly", async () => {
    const store = await ctx.open();
    // "€" is 3 bytes and "𝄞" 4 bytes of UTF-8: fill up to the limit exactly.
    const id = "𝄞".repeat(Math.floor((MAX_STREAM_NAME_BYTES - 2) / 4));
    const stream = `T/${id}${"€".repeat(Math.floor((MAX_STREAM_NAME_BYTES - 2 - id.length * 2) / 3))}`;
    const padded = stream + "x".repeat(MAX_STREAM_NAME_BYTES - Buffer.byteLength(stream));
    expect(Buffer.byteLength(padded)).toBe(MAX_STREAM_NAME_BYTES);
    await store.append(padded, 0, makeEvents(padded, 0, 1));
    expect((await store.read(padded)).map((e) => e.stream)).toEqual([padded]);
    const tooLong = `${padded}x`;
    expect(await rejectionOf(store.append(tooLong, 0, makeEvents(tooLong, 0, 1)))).toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
  });

  it.each([
    ["a lone surrogate in a string", { text: "a\uD800" }, "$.data.text"],
    ["a lone surrogate in a key", { "k\uDFFF": 1 }, "$.data.k\uDFFF"],
    ["NUL in a string", { text: "a\u0000" }, "$.data.text"],
    ["nesting 5,000 deep", nested(5_000), undefined],
    ["a Date", { when: new Date(0) }, "$.data.when"],
  ] as [string, Record<string, unknown>, string | undefined][])(
    "identifiers - event data with %s is refused with INVALID_EVENT and nothing is written",
    async (_, data, path) => {
      const store: EventStore = await ctx.open();
      const event = makeEvent("T/p", 1, { data: data as never });
      const error = await rejectionOf(store.append("T/p", 0, [event]));
      expect(error).toMatchObject({ code: ErrorCode.InvalidEvent });
      if (path) expect(error.data).toMatchObject({ path });
      expect(await store.latestVersion("T/p")).toBe(0);
    },
  );

  it("identifiers - event data nested 100 deep (the limit) is stored; 101 is refused naming MAX_PAYLOAD_DEPTH", async () => {
    const store = await ctx.open();
    await store.append("T/d", 0, [makeEvent("T/d", 1, { data: nested(99) as never })]);
    expect((await store.read("T/d"))[0]?.data).toEqual(nested(99));
    const error = await rejectionOf(store.append("T/d", 1, [makeEvent("T/d", 2, { data: nested(101) as never })]));
    expect(error).toMatchObject({ code: ErrorCode.InvalidEvent });
    expect(error.message).toMatch(/MAX_PAYLOAD_DEPTH/);
  });

  it("identifiers - an event type or metadata value with NUL or a lone surrogate is refused with INVALID_EVENT", async () => {
    const store = await ctx.open();
    const badType = await rejectionOf(store.append("T/m", 0, [makeEvent("T/m", 1, { type: "Bad\u0000" })]));
    expect(badType).toMatchObject({ code: ErrorCode.InvalidEvent, data: { path: "$.type" } });
    const badUser = makeEvent("T/m", 1);
    const error = await rejectionOf(
      store.append("T/m", 0, [{ ...badUser, metadata: { ...badUser.metadata, userId: "u\uD800" } }]),
    );
    expect(error).toMatchObject({ code: ErrorCode.InvalidEvent, data: { path: "$.metadata.userId" } });
    expect(await store.latestVersion("T/m")).toBe(0);
  });
}
