import { ErrorCode, type RecordedEvent } from "@granary/core";
import { expect, it } from "vitest";
import { eventually, makeEvents, rejectionOf } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

const REQUEST = { reason: "GDPR erasure request #42", requestedBy: "dpo@example.com" };

/** Purge (right to be forgotten): the one audited exception to append-only. */
export function purgeTests(ctx: EventStoreSuiteContext): void {
  it("purge - returns a tombstone that keeps who, why, when and the last version", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, makeEvents("User/1", 0, 3));
    const before = Date.now();

    const tombstone = await store.purge("User/1", REQUEST);

    expect(tombstone).toMatchObject({ stream: "User/1", lastVersion: 3, ...REQUEST });
    const purgedAt = Date.parse(tombstone.purgedAt);
    expect(new Date(purgedAt).toISOString()).toBe(tombstone.purgedAt);
    // A second of slack for coarse clocks; this checks the timestamp is "now", not how fast purge is.
    expect(purgedAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(purgedAt).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it("purge - tombstone() returns the tombstone afterwards, also after re-opening the store", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, makeEvents("User/1", 0, 2));
    const tombstone = await store.purge("User/1", REQUEST);

    expect(await store.tombstone("User/1")).toEqual(tombstone);
    await store.close();
    const reopened = await ctx.open();
    expect(await reopened.tombstone("User/1")).toEqual(tombstone);
  });

  it("purge - tombstone() of a stream that was never purged is undefined", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, makeEvents("User/1", 0, 1));

    expect(await store.tombstone("User/1")).toBeUndefined();
    expect(await store.tombstone("User/none")).toBeUndefined();
  });

  it("purge - read and readWithErrors of a purged stream throw StreamPurgedError{stream, purgedAt, reason}", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, makeEvents("User/1", 0, 2));
    const tombstone = await store.purge("User/1", REQUEST);

    const error = await rejectionOf(store.read("User/1"));

    expect(error).toMatchObject({
      name: "StreamPurgedError",
      code: ErrorCode.StreamPurged,
      stream: "User/1",
      purgedAt: tombstone.purgedAt,
      reason: REQUEST.reason,
    });
    expect(await rejectionOf(store.readWithErrors("User/1"))).toMatchObject({ code: ErrorCode.StreamPurged });
  });

  it("purge - an append after purge fails with StreamPurgedError, whatever the expectedVersion", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, makeEvents("User/1", 0, 2));
    await store.purge("User/1", REQUEST);

    for (const expected of [0, 2]) {
      const error = await rejectionOf(store.append("User/1", expected, makeEvents("User/1", expected, 1)));
      expect(error).toMatchObject({ code: ErrorCode.StreamPurged, stream: "User/1" });
    }
  });

  it("purge - an idempotent re-send of a purged stream's events does not bring them back", async () => {
    const store = await ctx.open();
    const events = makeEvents("User/1", 0, 2);
    await store.append("User/1", 0, events);
    await store.purge("User/1", REQUEST);

    await rejectionOf(store.append("User/1", 0, events));

    expect(await store.readAll(0)).toEqual([]);
  });

  it("purge - the feed no longer yields the purged stream's payloads; other streams stay", async () => {
    const store = await ctx.open();
    await store.append(
      "User/1",
      0,
      makeEvents("User/1", 0, 2, () => ({ data: { email: "ada@example.com" } })),
    );
    const kept = makeEvents("User/2", 0, 1);
    await store.append("User/2", 0, kept);

    await store.purge("User/1", REQUEST);

    const feed = await store.readAll(0);
    expect(feed.map((e) => e.id)).toEqual(kept.map((e) => e.id));
    expect(JSON.stringify(feed)).not.toContain("ada@example.com");
  });

  it("purge - a subscriber started after the purge never receives the purged payloads", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, makeEvents("User/1", 0, 2));
    await store.purge("User/1", REQUEST);
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribe({ fromPosition: 0, onEvent: (e) => void seen.push(e) });

    const marker = makeEvents("User/2", 0, 1);
    await store.append("User/2", 0, marker);
    await eventually(() => seen.length >= 1, "the subscriber received the marker");

    await subscription.close();
    expect(seen.map((e) => e.id)).toEqual(marker.map((e) => e.id));
  });

  it("purge - purging twice keeps the first tombstone", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, makeEvents("User/1", 0, 1));
    const first = await store.purge("User/1", REQUEST);

    const second = await store.purge("User/1", { reason: "again", requestedBy: "someone else" });

    expect(second).toEqual(first);
    expect(await store.tombstone("User/1")).toEqual(first);
  });

  it("purge - after a purge and re-open, the stream still refuses appends", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, makeEvents("User/1", 0, 1));
    await store.purge("User/1", REQUEST);
    await store.close();

    const reopened = await ctx.open();

    const error = await rejectionOf(reopened.append("User/1", 1, makeEvents("User/1", 1, 1)));
    expect(error).toMatchObject({ code: ErrorCode.StreamPurged });
    expect(await rejectionOf(reopened.read("User/1"))).toMatchObject({ code: ErrorCode.StreamPurged });
  });
}
