import { expect, it } from "vitest";
import { makeEvents } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

/** Order guarantees projections and replay rely on. */
export function orderingTests(ctx: EventStoreSuiteContext): void {
  it("ordering - an append acknowledged before another one starts has lower positions", async () => {
    const store = await ctx.open();
    const positions: number[] = [];

    for (let i = 0; i < 30; i++) {
      const stream = `s/${i % 5}`;
      const expected = Math.floor(i / 5);
      positions.push((await store.append(stream, expected, makeEvents(stream, expected, 1))).position);
    }

    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(positions.length);
  });

  it("ordering - a stream interleaved with others reads back in version order with increasing positions", async () => {
    const store = await ctx.open();
    for (let i = 0; i < 6; i++) {
      await store.append("s/main", i, makeEvents("s/main", i, 1));
      await store.append(`s/other-${i}`, 0, makeEvents(`s/other-${i}`, 0, 2));
    }

    const read = await store.read("s/main");

    expect(read.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
    const positions = read.map((e) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(6);
  });

  it("ordering - the events of one append occupy consecutive feed entries", async () => {
    const store = await ctx.open();
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.append(`s/${i}`, 0, makeEvents(`s/${i}`, 0, 3))));

    const feed = await store.readAll(0, 1_000);

    for (let i = 0; i < feed.length; i += 3) {
      const group = feed.slice(i, i + 3);
      expect(group.map((e) => e.stream)).toEqual([group[0]?.stream, group[0]?.stream, group[0]?.stream]);
      expect(group.map((e) => e.version)).toEqual([1, 2, 3]);
    }
  });
}
