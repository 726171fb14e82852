import type { EventEnvelope, EventStore } from "@granary/core";
import { expect, it } from "vitest";
import { makeEvents } from "../fixtures.js";
import type { EventStoreSuiteContext } from "./suite-context.js";

function correlated(stream: string, expected: number, count: number, correlationId: string): EventEnvelope[] {
  return makeEvents(stream, expected, count, (version) => ({
    metadata: { correlationId, causationId: `cause-${version}`, commandId: `cmd-${version}` },
  }));
}

function readCorrelated(
  store: EventStore,
  correlationId: string,
  options?: { afterPosition?: number; limit?: number },
) {
  if (!store.readCorrelated) throw new Error("this store does not implement readCorrelated");
  return store.readCorrelated(correlationId, options);
}

/** readCorrelated: "what did this request change?" across streams, in commit order. */
export function correlationTests(ctx: EventStoreSuiteContext): void {
  it("correlation - returns every event of one correlation across streams, in commit (position) order", async () => {
    const store = await ctx.open();
    const a1 = correlated("Account/a", 0, 2, "req-1");
    const other = correlated("Account/a", 2, 1, "req-2");
    const b1 = correlated("Account/b", 0, 1, "req-1");
    const a2 = correlated("Account/a", 3, 1, "req-1");
    await store.append("Account/a", 0, a1);
    await store.append("Account/a", 2, other);
    await store.append("Account/b", 0, b1);
    await store.append("Account/a", 3, a2);

    const events = await readCorrelated(store, "req-1");

    expect(events.map((e) => e.id)).toEqual([...a1, ...b1, ...a2].map((e) => e.id));
    expect(events.map((e) => e.position)).toEqual([...events.map((e) => e.position)].sort((x, y) => x - y));
    expect(events[0]).toMatchObject({ stream: "Account/a", version: 1, metadata: { correlationId: "req-1" } });
    expect(await readCorrelated(store, "req-none")).toEqual([]);
  });

  it("correlation - pages with afterPosition and limit", async () => {
    const store = await ctx.open();
    await store.append("S/1", 0, correlated("S/1", 0, 3, "req-p"));
    await store.append("S/2", 0, correlated("S/2", 0, 2, "req-p"));

    const first = await readCorrelated(store, "req-p", { limit: 2 });
    const second = await readCorrelated(store, "req-p", { afterPosition: first.at(-1)?.position ?? 0, limit: 2 });
    const third = await readCorrelated(store, "req-p", { afterPosition: second.at(-1)?.position ?? 0, limit: 2 });

    expect([...first, ...second, ...third].map((e) => `${e.stream}@${e.version}`)).toEqual([
      "S/1@1",
      "S/1@2",
      "S/1@3",
      "S/2@1",
      "S/2@2",
    ]);
  });

  it("correlation - a purged stream's events are no longer returned; other streams' are", async () => {
    const store = await ctx.open();
    await store.append("User/1", 0, correlated("User/1", 0, 2, "req-g"));
    const kept = correlated("User/2", 0, 1, "req-g");
    await store.append("User/2", 0, kept);

    await store.purge("User/1", { reason: "erasure", requestedBy: "dpo" });

    expect((await readCorrelated(store, "req-g")).map((e) => e.id)).toEqual(kept.map((e) => e.id));
  });

  it("correlation - namespaces are isolated", async () => {
    const tenantA = await ctx.open();
    const tenantB = await ctx.open({ namespace: ctx.otherNamespace });
    await tenantA.append("S/1", 0, correlated("S/1", 0, 1, "req-shared"));

    expect(await readCorrelated(tenantB, "req-shared")).toEqual([]);
    expect(await readCorrelated(tenantA, "req-shared")).toHaveLength(1);
  });
}
