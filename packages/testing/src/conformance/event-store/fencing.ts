import { ErrorCode } from "@granary/core";
import { expect, it } from "vitest";
import { makeEvents, rejectionOf } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

/** Fencing epochs: a superseded (zombie) activation cannot write after its actor moved. */
export function fencingTests(ctx: EventStoreSuiteContext): void {
  it("fencing - an append with an epoch older than one accepted fails with FencedWriteError{stream, epoch, currentEpoch}", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 5 });

    const error = await rejectionOf(store.append("s/1", 1, makeEvents("s/1", 1, 1), { epoch: 4 }));

    expect(error).toMatchObject({
      name: "FencedWriteError",
      code: ErrorCode.FencedWrite,
      stream: "s/1",
      epoch: 4,
      currentEpoch: 5,
    });
    expect(await store.latestVersion("s/1")).toBe(1);
  });

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2])(
    "fencing - an epoch of %s is refused with INVALID_ARGUMENT and nothing is written",
    async (epoch) => {
      const store = await ctx.open();
      const error = await rejectionOf(store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch }));
      expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
      expect(await store.latestVersion("s/1")).toBe(0);
    },
  );

  it("fencing - the same epoch and newer epochs are accepted, and a newer epoch raises the bar", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 5 });
    await store.append("s/1", 1, makeEvents("s/1", 1, 1), { epoch: 5 });
    await store.append("s/1", 2, makeEvents("s/1", 2, 1), { epoch: 7 });

    const error = await rejectionOf(store.append("s/1", 3, makeEvents("s/1", 3, 1), { epoch: 6 }));

    expect(error).toMatchObject({ code: ErrorCode.FencedWrite, epoch: 6, currentEpoch: 7 });
    expect(await store.latestVersion("s/1")).toBe(3);
  });

  it("fencing - a zombie whose expectedVersion is also stale gets FencedWriteError, not a version conflict", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 1 });
    await store.append("s/1", 1, makeEvents("s/1", 1, 1), { epoch: 2 });

    const error = await rejectionOf(store.append("s/1", 1, makeEvents("s/1", 1, 1), { epoch: 1 }));

    expect(error).toMatchObject({ code: ErrorCode.FencedWrite, epoch: 1, currentEpoch: 2 });
  });

  it("fencing - highestEpoch reports the highest epoch accepted per stream (0 before any), never a refused one", async () => {
    const store = await ctx.open();
    expect(await store.highestEpoch("s/1")).toBe(0);
    await store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 1_700_000_000_000 });
    await store.append("s/1", 1, makeEvents("s/1", 1, 1), { epoch: 1_700_000_000_005 });
    await store.append("s/2", 0, makeEvents("s/2", 0, 1), { epoch: 3 });
    await rejectionOf(store.append("s/1", 2, makeEvents("s/1", 2, 1), { epoch: 1_700_000_000_001 }));
    await rejectionOf(store.append("s/2", 0, makeEvents("s/2", 0, 1), { epoch: 9 })); // version conflict
    await store.append("s/2", 1, makeEvents("s/2", 1, 1));

    expect(await store.highestEpoch("s/1")).toBe(1_700_000_000_005);
    expect(await store.highestEpoch("s/2")).toBe(3);
    expect(await store.highestEpoch("s/3")).toBe(0);
  });

  it("fencing - appends without an epoch are not fenced", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 9 });

    await store.append("s/1", 1, makeEvents("s/1", 1, 1));

    expect(await store.latestVersion("s/1")).toBe(2);
  });

  it("fencing - epochs are per stream", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 10 });

    await store.append("s/2", 0, makeEvents("s/2", 0, 1), { epoch: 1 });

    expect(await store.latestVersion("s/2")).toBe(1);
  });

  it("fencing - the highest accepted epoch survives closing and re-opening the store", async () => {
    const first = await ctx.open();
    await first.append("s/1", 0, makeEvents("s/1", 0, 1), { epoch: 3 });
    await first.close();

    const reopened = await ctx.open();
    const error = await rejectionOf(reopened.append("s/1", 1, makeEvents("s/1", 1, 1), { epoch: 2 }));

    expect(error).toMatchObject({ code: ErrorCode.FencedWrite, currentEpoch: 3 });
  });
}
