import { ErrorCode, type RecordedEvent } from "@granary/core";
import { expect, it } from "vitest";
import { eventually, makeEvents, rejectionOf } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

/** Two stores opened on different namespaces of the same database never see each other. */
export function namespaceTests(ctx: EventStoreSuiteContext): void {
  it("namespaces - a stream written in one namespace does not exist in another", async () => {
    const tenantA = await ctx.open();
    const tenantB = await ctx.open({ namespace: ctx.otherNamespace });

    await tenantA.append("Account/1", 0, makeEvents("Account/1", 0, 2));

    expect(await tenantB.read("Account/1")).toEqual([]);
    expect(await tenantB.latestVersion("Account/1")).toBe(0);
    expect(await tenantB.readAll(0)).toEqual([]);
    expect(await tenantA.latestVersion("Account/1")).toBe(2);
  });

  it("namespaces - the same stream name in two namespaces keeps independent versions", async () => {
    const tenantA = await ctx.open();
    const tenantB = await ctx.open({ namespace: ctx.otherNamespace });
    await tenantA.append("Account/1", 0, makeEvents("Account/1", 0, 2));

    await tenantB.append("Account/1", 0, makeEvents("Account/1", 0, 1));
    const conflict = await rejectionOf(tenantB.append("Account/1", 2, makeEvents("Account/1", 2, 1)));

    expect(conflict).toMatchObject({ code: ErrorCode.VersionConflict, actualVersion: 1 });
    expect(await tenantA.latestVersion("Account/1")).toBe(2);
    expect(await tenantB.latestVersion("Account/1")).toBe(1);
  });

  it("namespaces - the same event id may be stored in two namespaces (ids are scoped per namespace)", async () => {
    const tenantA = await ctx.open();
    const tenantB = await ctx.open({ namespace: ctx.otherNamespace });
    const events = makeEvents("Account/1", 0, 1);
    await tenantA.append("Account/1", 0, events);

    const result = await tenantB.append("Account/1", 0, events);

    expect(result.duplicate).toBe(false);
    expect((await tenantB.read("Account/1")).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it("namespaces - fencing epochs are per namespace", async () => {
    const tenantA = await ctx.open();
    const tenantB = await ctx.open({ namespace: ctx.otherNamespace });
    await tenantA.append("Account/1", 0, makeEvents("Account/1", 0, 1), { epoch: 50 });

    await tenantB.append("Account/1", 0, makeEvents("Account/1", 0, 1), { epoch: 1 });

    expect(await tenantB.latestVersion("Account/1")).toBe(1);
  });

  it("namespaces - a subscriber of one namespace never receives another namespace's events", async () => {
    const tenantA = await ctx.open();
    const tenantB = await ctx.open({ namespace: ctx.otherNamespace });
    const seenByB: RecordedEvent[] = [];
    const subscription = tenantB.subscribe({ fromPosition: 0, onEvent: (e) => void seenByB.push(e) });

    await tenantA.append("Account/1", 0, makeEvents("Account/1", 0, 3));
    const own = makeEvents("Account/2", 0, 1);
    await tenantB.append("Account/2", 0, own);
    await eventually(() => seenByB.length >= 1, "tenant B's subscriber received its own event");
    await tenantA.append("Account/1", 3, makeEvents("Account/1", 3, 1));
    const marker = makeEvents("Account/3", 0, 1);
    await tenantB.append("Account/3", 0, marker);
    await eventually(() => seenByB.length >= 2, "tenant B's subscriber received the marker");

    await subscription.close();
    expect(seenByB.map((e) => e.id)).toEqual([...own, ...marker].map((e) => e.id));
  });

  it("namespaces - purging a stream in one namespace leaves the same-named stream of another intact", async () => {
    const tenantA = await ctx.open();
    const tenantB = await ctx.open({ namespace: ctx.otherNamespace });
    await tenantA.append("Account/1", 0, makeEvents("Account/1", 0, 1));
    await tenantB.append("Account/1", 0, makeEvents("Account/1", 0, 2));

    await tenantA.purge("Account/1", { reason: "gdpr", requestedBy: "dpo" });

    expect(await tenantB.read("Account/1")).toHaveLength(2);
    expect(await tenantB.tombstone("Account/1")).toBeUndefined();
    expect(await tenantB.readAll(0)).toHaveLength(2);
  });
}
