import { ErrorCode } from "@granary/core";
import { expect, it } from "vitest";
import { makeEvents, rejectionOf } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

/** Every store refuses the same bad read arguments the same way (no clamping, no pass-through). */
export function readArgumentTests(ctx: EventStoreSuiteContext): void {
  it("read - a fromVersion that is not an integer >= 1 is an InvalidArgumentError naming it", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));

    for (const fromVersion of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await rejectionOf(store.read("s/1", fromVersion));
      expect(error.code).toBe(ErrorCode.InvalidArgument);
      expect(error.message).toContain("fromVersion");
      expect((await rejectionOf(store.readWithErrors("s/1", fromVersion))).code).toBe(ErrorCode.InvalidArgument);
    }
  });

  it("read - a limit that is not an integer >= 1 is an InvalidArgumentError naming it", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));

    for (const limit of [0, -1, 2.5, Number.NaN]) {
      const error = await rejectionOf(store.read("s/1", 1, { limit }));
      expect(error.code).toBe(ErrorCode.InvalidArgument);
      expect(error.message).toContain("limit");
    }
  });

  it("read - an empty stream name is an InvalidArgumentError", async () => {
    const store = await ctx.open();

    expect((await rejectionOf(store.read(""))).code).toBe(ErrorCode.InvalidArgument);
  });

  it("readAll - a fromPosition that is not an integer >= 0, or a limit that is not an integer >= 1, is an InvalidArgumentError naming it", async () => {
    const store = await ctx.open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));

    for (const fromPosition of [-1, 0.5, Number.NaN]) {
      const error = await rejectionOf(store.readAll(fromPosition));
      expect(error.code).toBe(ErrorCode.InvalidArgument);
      expect(error.message).toContain("fromPosition");
    }
    for (const limit of [0, -5, 1.5]) {
      const error = await rejectionOf(store.readAll(0, limit));
      expect(error.code).toBe(ErrorCode.InvalidArgument);
      expect(error.message).toContain("limit");
    }
    expect(await store.readAll(0, 1)).toHaveLength(1);
  });
}
