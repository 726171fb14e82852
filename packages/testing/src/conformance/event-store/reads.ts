import { expect, it } from "vitest";
import { makeEvent, makeEvents } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

/** Reading a stream back, and what survives closing the store. */
export function readTests(ctx: EventStoreSuiteContext): void {
  it("read - events read back exactly as written (id, type, stream, version, schemaVersion, data, metadata, timestamp)", async () => {
    const store = await ctx.open();
    const events = [
      makeEvent("s/1", 1, {
        schemaVersion: 3,
        data: { text: 'naïve ☕ \\ "q" \n', nested: { list: [1, 2.5, -3, null, true, "x"], empty: {} }, big: 2 ** 52 },
      }),
      makeEvent("s/1", 2, {
        metadata: {
          correlationId: "c",
          causationId: "d",
          commandId: "e",
          traceId: "t".repeat(32),
          spanId: "s".repeat(16),
        },
      }),
    ];

    await store.append("s/1", 0, events);

    const read = await store.read("s/1");
    expect(read).toEqual(events.map((e) => ({ ...e, position: expect.any(Number) })));
  });

  it("read - fromVersion returns the events from that version on, in version order", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 5));

    expect((await store.read("s/1", 3)).map((e) => e.version)).toEqual([3, 4, 5]);
    expect((await store.read("s/1", 1)).map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.readWithErrors("s/1", 4)).events.map((e) => e.version)).toEqual([4, 5]);
  });

  it("read - limit caps the number of events returned", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 5));

    expect((await store.read("s/1", 2, { limit: 2 })).map((e) => e.version)).toEqual([2, 3]);
    expect((await store.read("s/1", 1, { limit: 10 })).map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it("read - a stream never written reads as empty with latestVersion 0", async () => {
    const store = await ctx.open();

    expect(await store.read("s/none")).toEqual([]);
    expect(await store.readWithErrors("s/none")).toEqual({ events: [], errors: [] });
    expect(await store.latestVersion("s/none")).toBe(0);
  });

  it("read - fromVersion past the last version returns no events", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));

    expect(await store.read("s/1", 3)).toEqual([]);
  });

  it("read - mutating returned events does not change stored history", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));
    const [event] = await store.read("s/1");
    try {
      (event?.data as Record<string, unknown>).n = "changed";
    } catch {
      // Frozen results are fine too.
    }

    expect((await store.read("s/1"))[0]?.data.n).toBe(1);
  });

  it("read - mutating appended events after the append does not change stored history", async () => {
    const store = await ctx.open();
    const event = makeEvent("s/1", 1, { data: { n: 1 } });
    await store.append("s/1", 0, [event]);

    (event.data as Record<string, unknown>).n = 2;

    expect((await store.read("s/1"))[0]?.data.n).toBe(1);
  });

  it("durability - events appended before close are readable after re-opening the store", async () => {
    const first = await ctx.open();
    const events = makeEvents("s/1", 0, 3);
    await first.append("s/1", 0, events);
    await first.close();

    const reopened = await ctx.open();

    expect((await reopened.read("s/1")).map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(await reopened.latestVersion("s/1")).toBe(3);
    expect(await reopened.readAll(0, 100)).toHaveLength(3);
    await reopened.append("s/1", 3, makeEvents("s/1", 3, 1));
    expect(await reopened.latestVersion("s/1")).toBe(4);
  });

  it("close - appends still in flight when close is called complete and stay durable", async () => {
    const first = await ctx.open();
    const pending = Array.from({ length: 20 }, (_, i) => first.append(`s/${i}`, 0, makeEvents(`s/${i}`, 0, 1)));

    await first.close();
    const results = await Promise.allSettled(pending);

    const acknowledged = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    const reopened = await ctx.open();
    for (const i of acknowledged) expect(await reopened.latestVersion(`s/${i}`)).toBe(1);
    expect(acknowledged).toHaveLength(20);
  });

  it("close - closing a store twice is harmless", async () => {
    const store = await ctx.open();
    await store.close();

    await expect(store.close()).resolves.toBeUndefined();
  });
}
