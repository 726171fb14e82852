import { expect, it } from "vitest";
import { makeEvent, makeEvents } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

const STREAMS = 1_000;

/** Sizes a real application reaches: big payloads, many streams. */
export function scaleTests(ctx: EventStoreSuiteContext): void {
  it("large payloads - a ~1 MB event round-trips unchanged", async () => {
    const store = await ctx.open();
    const blob = "x".repeat(640 * 1024);
    const items = Array.from({ length: 5_000 }, (_, i) => ({ i, name: `item-${i}`, tags: ["a", "ü", "東"] }));
    const event = makeEvent("Doc/1", 1, { data: { blob, items } });

    await store.append("Doc/1", 0, [event]);

    const [read] = await store.read("Doc/1");
    expect(JSON.stringify(event.data).length).toBeGreaterThan(900_000);
    expect(read?.data).toEqual(event.data);
    expect((await store.readAll(0))[0]?.data).toEqual(event.data);
  });

  it("many streams - 1,000 streams each keep their own versions and every event is in the feed", async () => {
    const store = await ctx.open();

    for (let round = 0; round < 2; round++) {
      await Promise.all(
        Array.from({ length: STREAMS }, (_, i) => store.append(`Many/${i}`, round, makeEvents(`Many/${i}`, round, 1))),
      );
    }

    for (const i of [0, 1, 499, 998, 999]) expect(await store.latestVersion(`Many/${i}`)).toBe(2);
    const feed = await store.readAll(0, 10_000);
    expect(feed).toHaveLength(2 * STREAMS);
    const versionsPerStream = new Map<string, number[]>();
    for (const e of feed) versionsPerStream.set(e.stream, [...(versionsPerStream.get(e.stream) ?? []), e.version]);
    expect(versionsPerStream.size).toBe(STREAMS);
    for (const versions of versionsPerStream.values()) expect(versions).toEqual([1, 2]);
  });
}
