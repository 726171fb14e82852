import { ErrorCode } from "@granary/core";
import { expect, it } from "vitest";
import { makeEvent, makeEvents, rejectionOf } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

/** Re-sent appends (a retry after a lost acknowledgement) are recognised by event id. */
export function idempotencyTests(ctx: EventStoreSuiteContext): void {
  it("idempotency - re-sending an append with the same ids and content returns duplicate:true and writes nothing", async () => {
    const store = await ctx.open();
    const events = makeEvents("s/1", 0, 3);
    const first = await store.append("s/1", 0, events);

    const again = await store.append("s/1", 0, events);

    expect(again).toEqual({ version: first.version, position: first.position, duplicate: true });
    expect(await store.read("s/1")).toHaveLength(3);
    expect(await store.readAll(0, 1_000)).toHaveLength(3);
  });

  it("idempotency - a re-send is still a duplicate after the stream moved on", async () => {
    const store = await ctx.open();
    const events = makeEvents("s/1", 0, 2);
    const first = await store.append("s/1", 0, events);
    await store.append("s/1", 2, makeEvents("s/1", 2, 2));

    const again = await store.append("s/1", 0, events);

    expect(again).toEqual({ version: 2, position: first.position, duplicate: true });
    expect(await store.latestVersion("s/1")).toBe(4);
  });

  it("idempotency - content comparison ignores the key order of data and metadata", async () => {
    const store = await ctx.open();
    const event = makeEvent("s/1", 1, { data: { a: 1, b: { c: 2, d: [1, 2] } } });
    await store.append("s/1", 0, [event]);
    const reordered = {
      ...event,
      data: { b: { d: [1, 2], c: 2 }, a: 1 },
      metadata: Object.fromEntries(Object.entries(event.metadata).reverse()) as typeof event.metadata,
    };

    const again = await store.append("s/1", 0, [reordered]);

    expect(again.duplicate).toBe(true);
  });

  it("idempotency - the same event id with different content fails with IdempotencyConflictError{stream, eventId}", async () => {
    const store = await ctx.open();
    const event = makeEvent("s/1", 1);
    await store.append("s/1", 0, [event]);

    const error = await rejectionOf(store.append("s/1", 0, [{ ...event, data: { n: 999 } }]));

    expect(error).toMatchObject({
      name: "IdempotencyConflictError",
      code: ErrorCode.IdempotencyConflict,
      stream: "s/1",
      eventId: event.id,
    });
    expect((await store.read("s/1"))[0]?.data).toEqual(event.data);
  });

  it("idempotency - the same event id with a different type fails with IdempotencyConflictError", async () => {
    const store = await ctx.open();
    const event = makeEvent("s/1", 1);
    await store.append("s/1", 0, [event]);

    const error = await rejectionOf(store.append("s/1", 0, [{ ...event, type: "Other" }]));

    expect(error).toMatchObject({ code: ErrorCode.IdempotencyConflict, eventId: event.id });
  });

  it("idempotency - a batch that is partly stored and partly new fails with IdempotencyConflictError and writes nothing", async () => {
    const store = await ctx.open();
    const [first, second] = makeEvents("s/1", 0, 2) as [ReturnType<typeof makeEvent>, ReturnType<typeof makeEvent>];
    await store.append("s/1", 0, [first]);

    const error = await rejectionOf(store.append("s/1", 0, [first, second]));

    expect(error).toMatchObject({ code: ErrorCode.IdempotencyConflict });
    expect(await store.latestVersion("s/1")).toBe(1);
  });

  it("idempotency - an event id already stored at another version of the stream fails with IdempotencyConflictError", async () => {
    const store = await ctx.open();
    const event = makeEvent("s/1", 1);
    await store.append("s/1", 0, [event]);

    const error = await rejectionOf(store.append("s/1", 1, [{ ...event, version: 2 }]));

    expect(error).toMatchObject({ code: ErrorCode.IdempotencyConflict, eventId: event.id });
    expect(await store.latestVersion("s/1")).toBe(1);
  });

  it("idempotency - an event id already stored in another stream of the namespace fails with IdempotencyConflictError", async () => {
    const store = await ctx.open();
    const event = makeEvent("s/1", 1);
    await store.append("s/1", 0, [event]);

    const error = await rejectionOf(store.append("s/2", 0, [{ ...event, stream: "s/2" }]));

    expect(error).toMatchObject({ code: ErrorCode.IdempotencyConflict, eventId: event.id });
    expect(await store.latestVersion("s/2")).toBe(0);
  });
}
