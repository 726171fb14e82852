import { ErrorCode } from "@granary/core";
import { expect, it } from "vitest";
import { makeEvent, makeEvents, rejectionOf } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

/** Appends, optimistic concurrency and batch validation. */
export function appendTests(ctx: EventStoreSuiteContext): void {
  it("append - the first append with expectedVersion 0 stores versions 1..n and reports the new version", async () => {
    const store = await ctx.open();
    const events = makeEvents("Account/a", 0, 3);

    const result = await store.append("Account/a", 0, events);

    expect(result).toMatchObject({ version: 3, duplicate: false });
    const read = await store.read("Account/a");
    expect(read.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it("append - the result's position is the feed position of the append's last event", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));

    const result = await store.append("s/1", 2, makeEvents("s/1", 2, 2));

    const read = await store.read("s/1");
    expect(result.position).toBe(read[3]?.position);
    expect(read[3]?.position).toBeGreaterThan(read[2]?.position ?? Number.POSITIVE_INFINITY);
  });

  it("append - consecutive appends continue the version sequence without gaps", async () => {
    const store = await ctx.open();
    let version = 0;
    for (const size of [1, 3, 2, 1]) {
      const result = await store.append("s/seq", version, makeEvents("s/seq", version, size));
      version += size;
      expect(result.version).toBe(version);
    }

    expect((await store.read("s/seq")).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await store.latestVersion("s/seq")).toBe(7);
  });

  it("append - a stale expectedVersion fails with VersionConflictError{stream, expectedVersion, actualVersion}", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));

    const error = await rejectionOf(store.append("s/1", 1, makeEvents("s/1", 1, 1)));

    expect(error).toMatchObject({
      name: "VersionConflictError",
      code: ErrorCode.VersionConflict,
      stream: "s/1",
      expectedVersion: 1,
      actualVersion: 2,
    });
  });

  it("append - an expectedVersion ahead of the stream fails with VersionConflictError", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));

    const error = await rejectionOf(store.append("s/1", 5, makeEvents("s/1", 5, 1)));

    expect(error).toMatchObject({ code: ErrorCode.VersionConflict, expectedVersion: 5, actualVersion: 1 });
  });

  it("append - expectedVersion 0 on a stream that has events fails with VersionConflictError", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));

    const error = await rejectionOf(store.append("s/1", 0, makeEvents("s/1", 0, 1)));

    expect(error).toMatchObject({ code: ErrorCode.VersionConflict, expectedVersion: 0, actualVersion: 1 });
  });

  it("append - a rejected append writes none of its events (all-or-nothing)", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));
    const feedBefore = await store.readAll(0, 1_000);

    await rejectionOf(store.append("s/1", 1, makeEvents("s/1", 1, 3)));

    expect((await store.read("s/1")).map((e) => e.version)).toEqual([1, 2]);
    expect(await store.latestVersion("s/1")).toBe(2);
    expect(await store.readAll(0, 1_000)).toEqual(feedBefore);
  });

  it("append - of concurrent appends with the same expectedVersion exactly one wins and the others conflict", async () => {
    const store = await ctx.open();
    const batches = Array.from({ length: 8 }, () => makeEvents("s/race", 0, 2));

    const results = await Promise.allSettled(batches.map((batch) => store.append("s/race", 0, batch)));

    const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: ErrorCode.VersionConflict });
    }
    const read = await store.read("s/race");
    expect(read.map((e) => e.id)).toEqual(batches[winners[0] as number]?.map((e) => e.id));
  });

  it("append - events whose versions do not follow expectedVersion are rejected with InvalidArgumentError", async () => {
    const store = await ctx.open();
    const gap = [makeEvent("s/1", 1), makeEvent("s/1", 3)];

    const error = await rejectionOf(store.append("s/1", 0, gap));

    expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
    expect(await store.latestVersion("s/1")).toBe(0);
  });

  it("append - an empty batch is rejected with InvalidArgumentError", async () => {
    const store = await ctx.open();

    expect(await rejectionOf(store.append("s/1", 0, []))).toMatchObject({ code: ErrorCode.InvalidArgument });
  });

  it("append - an event that names another stream is rejected with InvalidArgumentError", async () => {
    const store = await ctx.open();

    const error = await rejectionOf(store.append("s/1", 0, [makeEvent("s/2", 1)]));

    expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
    expect(await store.latestVersion("s/1")).toBe(0);
    expect(await store.latestVersion("s/2")).toBe(0);
  });

  it("append - stream names may contain slashes, quotes, percent signs, spaces and non-ASCII characters", async () => {
    const store = await ctx.open();
    const names = ["Order/a/b/c", 'Quote/it\'s "x"', "Pct/100%_like", "Space/a b", "Uni/Zürich-東京-🙂"];

    for (const name of names) await store.append(name, 0, makeEvents(name, 0, 1));

    for (const name of names) {
      expect((await store.read(name)).map((e) => e.stream)).toEqual([name]);
    }
    // A LIKE-style pattern must not match other streams.
    expect(await store.latestVersion("Pct/100%")).toBe(0);
    expect(await store.latestVersion("Order/a/%")).toBe(0);
  });

  it("append - streams are independent: an append to one does not change another's version", async () => {
    const store = await ctx.open();
    await store.append("s/a", 0, makeEvents("s/a", 0, 2));

    await store.append("s/b", 0, makeEvents("s/b", 0, 1));

    expect(await store.latestVersion("s/a")).toBe(2);
    expect(await store.latestVersion("s/b")).toBe(1);
    expect((await store.read("s/b")).map((e) => e.stream)).toEqual(["s/b"]);
  });
}
