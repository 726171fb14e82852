import { ErrorCode, Upcasters } from "@granary/core";
import { expect, it } from "vitest";
import { makeEvent, rejectionOf } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

function depositedUpcasters(): Upcasters {
  return new Upcasters()
    .register("Deposited", 1, (d) => ({ ...d, currency: "EUR" }))
    .register("Deposited", 2, (d) => ({ amountCents: Number(d.amount) * 100, currency: d.currency ?? null }));
}

function failingUpcasters(): Upcasters {
  return new Upcasters().register("Deposited", 1, (d) => {
    if (d.amount === "bad") throw new Error("amount is not a number");
    return { ...d, checked: true };
  });
}

/** Upcasting on read, and the strict (read) vs reporting (readWithErrors) paths for bad history. */
export function upcastingTests(ctx: EventStoreSuiteContext): void {
  it("upcasting - a registered chain brings old schema versions to the current one on read", async () => {
    const store = await ctx.open({ upcasters: depositedUpcasters() });
    await store.append("Account/1", 0, [
      makeEvent("Account/1", 1, { type: "Deposited", schemaVersion: 1, data: { amount: 5 } }),
      makeEvent("Account/1", 2, { type: "Deposited", schemaVersion: 2, data: { amount: 7, currency: "USD" } }),
      makeEvent("Account/1", 3, { type: "Deposited", schemaVersion: 3, data: { amountCents: 1, currency: "GBP" } }),
      makeEvent("Account/1", 4, { type: "Opened", schemaVersion: 1, data: { owner: "ada" } }),
    ]);

    const read = await store.read("Account/1");

    expect(read.map((e) => [e.schemaVersion, e.data])).toEqual([
      [3, { amountCents: 500, currency: "EUR" }],
      [3, { amountCents: 700, currency: "USD" }],
      [3, { amountCents: 1, currency: "GBP" }],
      [1, { owner: "ada" }],
    ]);
  });

  it("upcasting - readAll and subscribe deliver upcast events too", async () => {
    const store = await ctx.open({ upcasters: depositedUpcasters() });
    await store.append("Account/1", 0, [makeEvent("Account/1", 1, { type: "Deposited", data: { amount: 2 } })]);

    const [fromFeed] = await store.readAll(0);

    expect(fromFeed).toMatchObject({ schemaVersion: 3, data: { amountCents: 200, currency: "EUR" } });
  });

  it("upcasting - stored events are never rewritten: a store opened without upcasters reads the original data", async () => {
    const upcasting = await ctx.open({ upcasters: depositedUpcasters() });
    await upcasting.append("Account/1", 0, [makeEvent("Account/1", 1, { type: "Deposited", data: { amount: 3 } })]);
    await upcasting.read("Account/1");

    const plain = await ctx.open();

    expect((await plain.read("Account/1")).map((e) => [e.schemaVersion, e.data])).toEqual([[1, { amount: 3 }]]);
  });

  it("readWithErrors - an upcaster that throws is reported in errors (stream, version, position, eventId, message) and the other events are returned", async () => {
    const store = await ctx.open({ upcasters: failingUpcasters() });
    const bad = makeEvent("Account/1", 2, { type: "Deposited", data: { amount: "bad" } });
    await store.append("Account/1", 0, [
      makeEvent("Account/1", 1, { type: "Deposited", data: { amount: 1 } }),
      bad,
      makeEvent("Account/1", 3, { type: "Deposited", data: { amount: 3 } }),
    ]);

    const { events, errors } = await store.readWithErrors("Account/1");

    expect(events.map((e) => e.version)).toEqual([1, 3]);
    expect(events.every((e) => e.data.checked === true)).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      stream: "Account/1",
      version: 2,
      eventId: bad.id,
      position: expect.any(Number),
      message: expect.stringContaining("amount is not a number"),
    });
  });

  it("read - an upcaster that throws makes read() throw CorruptHistoryError naming the stream and version", async () => {
    const store = await ctx.open({ upcasters: failingUpcasters() });
    await store.append("Account/1", 0, [
      makeEvent("Account/1", 1, { type: "Deposited", data: { amount: 1 } }),
      makeEvent("Account/1", 2, { type: "Deposited", data: { amount: "bad" } }),
    ]);

    const error = await rejectionOf(store.read("Account/1"));

    expect(error).toMatchObject({
      name: "CorruptHistoryError",
      code: ErrorCode.CorruptHistory,
      stream: "Account/1",
      version: 2,
    });
    expect(error.message).toContain("amount is not a number");
  });

  it.skipIf(ctx.factory.corrupt === undefined)(
    "readWithErrors - a stored row that cannot be decoded is reported in errors and read() throws CorruptHistoryError",
    async () => {
      const store = await ctx.open();
      const events = [makeEvent("Account/1", 1), makeEvent("Account/1", 2), makeEvent("Account/1", 3)];
      await store.append("Account/1", 0, events);

      await ctx.factory.corrupt?.(store, "Account/1", 2, ctx.namespace);

      const { events: good, errors } = await store.readWithErrors("Account/1");
      expect(good.map((e) => e.version)).toEqual([1, 3]);
      expect(errors).toEqual([
        expect.objectContaining({
          stream: "Account/1",
          version: 2,
          eventId: events[1]?.id,
          message: expect.any(String),
        }),
      ]);
      const error = await rejectionOf(store.read("Account/1"));
      expect(error).toMatchObject({ code: ErrorCode.CorruptHistory, stream: "Account/1", version: 2 });
    },
  );
}
