import type { RecordedEvent } from "@granary/core";
import { expect, it } from "vitest";
import { eventually, makeEvents } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

const APPENDERS = 16;
const APPENDS_EACH = 12;

function expectStrictlyIncreasing(positions: readonly number[]): void {
  for (let i = 1; i < positions.length; i++) {
    if (!((positions[i] as number) > (positions[i - 1] as number))) {
      throw new Error(`positions are not strictly increasing at index ${i}: ${positions[i - 1]} then ${positions[i]}`);
    }
  }
}

/** Many writers each appending to their own streams at once, as a busy silo does. */
async function concurrentAppends(store: Awaited<ReturnType<EventStoreSuiteContext["open"]>>): Promise<string[]> {
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: APPENDERS }, async (_, writer) => {
      for (let i = 0; i < APPENDS_EACH; i++) {
        const stream = `w${writer}/${i % 3}`;
        const version = Math.floor(i / 3);
        const events = makeEvents(stream, version, 1);
        ids.push(...events.map((e) => e.id));
        await store.append(stream, version, events);
      }
    }),
  );
  return ids;
}

/** The global ordered feed: readAll and subscribe. */
export function feedTests(ctx: EventStoreSuiteContext): void {
  it("readAll - returns the events of every stream after fromPosition, in position order", async () => {
    const store = await ctx.open();
    const a = makeEvents("s/a", 0, 2);
    const b = makeEvents("s/b", 0, 1);
    const c = makeEvents("s/a", 2, 1);
    await store.append("s/a", 0, a);
    await store.append("s/b", 0, b);
    await store.append("s/a", 2, c);

    const all = await store.readAll(0);

    expect(all.map((e) => e.id)).toEqual([...a, ...b, ...c].map((e) => e.id));
    expectStrictlyIncreasing(all.map((e) => e.position));
    const after = await store.readAll(all[1]?.position as number);
    expect(after.map((e) => e.id)).toEqual([...b, ...c].map((e) => e.id));
  });

  it("readAll - returns events with the same positions and content as read", async () => {
    const store = await ctx.open();
    await store.append("s/a", 0, makeEvents("s/a", 0, 3));

    expect(await store.readAll(0)).toEqual(await store.read("s/a"));
  });

  it("readAll - limit caps a batch, and paging by the last position yields every event exactly once", async () => {
    const store = await ctx.open();
    for (let i = 0; i < 10; i++) {
      const expected = Math.floor(i / 4) * 2;
      await store.append(`s/${i % 4}`, expected, makeEvents(`s/${i % 4}`, expected, 2));
    }

    const paged: RecordedEvent[] = [];
    for (let position = 0; ; ) {
      const batch = await store.readAll(position, 3);
      expect(batch.length).toBeLessThanOrEqual(3);
      if (batch.length === 0) break;
      paged.push(...batch);
      position = batch.at(-1)?.position as number;
    }

    expect(paged).toHaveLength(20);
    expect(paged).toEqual(await store.readAll(0, 1_000));
  });

  it("readAll - a position past the end returns no events", async () => {
    const store = await ctx.open();
    const { position } = await store.append("s/a", 0, makeEvents("s/a", 0, 2));

    expect(await store.readAll(position)).toEqual([]);
  });

  it("readAll - with many concurrent appenders the feed holds every event exactly once in strictly increasing position order", async () => {
    const store = await ctx.open();

    const ids = await concurrentAppends(store);

    const all = await store.readAll(0, 100_000);
    expect(all).toHaveLength(ids.length);
    expect(new Set(all.map((e) => e.id))).toEqual(new Set(ids));
    expectStrictlyIncreasing(all.map((e) => e.position));
    for (let writer = 0; writer < APPENDERS; writer++) {
      const versions = all.filter((e) => e.stream === `w${writer}/0`).map((e) => e.version);
      expect(versions).toEqual([1, 2, 3, 4]);
    }
  });

  it("subscribe - catches up on stored events, then delivers new appends live", async () => {
    const store = await ctx.open();
    await store.append("s/a", 0, makeEvents("s/a", 0, 2));
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribe({ fromPosition: 0, onEvent: (e) => void seen.push(e) });
    await eventually(() => seen.length === 2, "the subscriber caught up");

    await store.append("s/b", 0, makeEvents("s/b", 0, 1));
    await store.append("s/a", 2, makeEvents("s/a", 2, 1));
    await eventually(() => seen.length === 4, "the subscriber received the live appends");

    expect(seen).toEqual(await store.readAll(0));
    expect(subscription.position).toBe(seen[3]?.position);
    await subscription.close();
  });

  it("subscribe - delivers only events after fromPosition", async () => {
    const store = await ctx.open();
    const first = await store.append("s/a", 0, makeEvents("s/a", 0, 2));
    const later = makeEvents("s/a", 2, 1);
    await store.append("s/a", 2, later);
    const seen: RecordedEvent[] = [];

    const subscription = store.subscribe({ fromPosition: first.position, onEvent: (e) => void seen.push(e) });
    await eventually(() => seen.length >= 1, "the subscriber received an event");

    expect(seen.map((e) => e.id)).toEqual(later.map((e) => e.id));
    await subscription.close();
  });

  it("subscribe - with many concurrent appenders the subscriber sees every event exactly once, in position order, never skipping one", async () => {
    const store = await ctx.open();
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribe({ fromPosition: 0, batchSize: 7, onEvent: (e) => void seen.push(e) });

    const ids = await concurrentAppends(store);
    await eventually(() => seen.length >= ids.length, "the subscriber received every event");
    // Give a wrongly duplicated or late-committed event the chance to show up.
    await store.append("s/last", 0, makeEvents("s/last", 0, 1));
    await eventually(() => seen.at(-1)?.stream === "s/last", "the subscriber received the last event");

    await subscription.close();
    expect(seen).toHaveLength(ids.length + 1);
    expectStrictlyIncreasing(seen.map((e) => e.position));
    expect(seen).toEqual(await store.readAll(0, 100_000));
  });

  it("subscribe - waits for an async onEvent to finish before delivering the next event", async () => {
    const store = await ctx.open();
    await store.append("s/a", 0, makeEvents("s/a", 0, 3));
    let inFlight = 0;
    let maxInFlight = 0;
    let delivered = 0;

    const subscription = store.subscribe({
      fromPosition: 0,
      onEvent: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        delivered++;
      },
    });
    await eventually(() => delivered === 3, "three events were handled");

    expect(maxInFlight).toBe(1);
    await subscription.close();
  });

  it("subscribe - after close no further events are delivered", async () => {
    const store = await ctx.open();
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribe({ fromPosition: 0, onEvent: (e) => void seen.push(e) });
    await store.append("s/a", 0, makeEvents("s/a", 0, 1));
    await eventually(() => seen.length === 1, "the first event arrived");

    await subscription.close();
    await store.append("s/a", 1, makeEvents("s/a", 1, 1));
    // A second subscription proves the event is readable, so the first one had its chance.
    const probe: RecordedEvent[] = [];
    const second = store.subscribe({ fromPosition: 0, onEvent: (e) => void probe.push(e) });
    await eventually(() => probe.length === 2, "the probe subscription saw both events");
    await second.close();

    expect(seen).toHaveLength(1);
  });

  it("subscribe - an onEvent that throws stops the subscription and reports the error to onError", async () => {
    const store = await ctx.open();
    await store.append("s/a", 0, makeEvents("s/a", 0, 3));
    const failure = new Error("projection failed");
    const errors: unknown[] = [];
    let calls = 0;

    const subscription = store.subscribe({
      fromPosition: 0,
      onEvent: (e) => {
        calls++;
        if (e.version === 2) throw failure;
      },
      onError: (error) => errors.push(error),
    });
    await eventually(() => errors.length === 1, "onError was called");
    await store.append("s/a", 3, makeEvents("s/a", 3, 1));

    await subscription.close();
    expect(errors).toEqual([failure]);
    expect(calls).toBe(2);
  });
}
