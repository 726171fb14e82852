import { ErrorCode, MemoryEventStore, MemorySnapshotStore, PastStateReadOnlyError } from "@granary/core";
import fc from "fast-check";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Ledger, type LedgerState, Notebook, Volatile } from "../__fixtures__/ledger.js";
import { Silo } from "../silo/silo.js";

const logger = pino({ level: "silent" });
const silos: Silo[] = [];

async function startSilo(store = new MemoryEventStore(), snapshots = new MemorySnapshotStore(), actors = [Ledger]) {
  const silo = await Silo.start({ actors: [...actors, Notebook, Volatile], store, snapshots, logger });
  silos.push(silo);
  return { silo, store, snapshots };
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

describe("history", () => {
  it("history - returns the recorded events with their metadata, typed by the actor's events, paged with next", async () => {
    const { silo } = await startSilo();
    const ledger = silo.get(Ledger, "l-1", { userId: "ada", correlationId: "req-1" });
    for (let i = 1; i <= 5; i++) await ledger.credit(i, `n${i}`);

    const first = await silo.history(Ledger, "l-1", { limit: 2 });

    expect(first.events.map((e) => e.version)).toEqual([1, 2]);
    const event = first.events[0];
    if (event?.type === "Credited") expect(event.data.note).toBe("n1");
    expect(event).toMatchObject({
      type: "Credited",
      stream: "Ledger/l-1",
      data: { amount: 1, note: "n1" },
      metadata: { userId: "ada", correlationId: "req-1" },
    });
    expect(first.next).toEqual({ fromVersion: 3, limit: 2 });
    const second = await silo.history(Ledger, "l-1", first.next);
    const third = await silo.history(Ledger, "l-1", second.next);
    expect(second.events.map((e) => e.version)).toEqual([3, 4]);
    expect(third.events.map((e) => e.version)).toEqual([5]);
    expect(third.next).toBeUndefined();
  });

  it("history - fromVersion/toVersion and from/to time bounds select the events in between", async () => {
    const { silo } = await startSilo();
    const ledger = silo.get(Ledger, "l-1");
    const times: string[] = [];
    for (let i = 1; i <= 6; i++) {
      await ledger.credit(i);
      times.push((await silo.history(Ledger, "l-1", { fromVersion: i })).events[0]?.timestamp as string);
      await tick();
    }

    const byVersion = await silo.history(Ledger, "l-1", { fromVersion: 2, toVersion: 4 });
    const byTime = await silo.history(Ledger, "l-1", { from: times[1] as string, to: new Date(times[3] as string) });
    const empty = await silo.history(Ledger, "l-1", { fromVersion: 7 });

    expect(byVersion.events.map((e) => e.version)).toEqual([2, 3, 4]);
    expect(byTime.events.map((e) => e.version)).toEqual([2, 3, 4]);
    expect(empty).toEqual({ events: [] });
  });

  it("history - invalid options fail with InvalidArgumentError naming the option", async () => {
    const { silo } = await startSilo();
    const cases: [unknown, RegExp][] = [
      [{ fromVersion: 0 }, /`fromVersion` must be an integer >= 1, got 0/],
      [{ fromVersion: 1.5 }, /`fromVersion`/],
      [{ fromVersion: 5, toVersion: 2 }, /`toVersion` \(2\) is below `fromVersion` \(5\)/],
      [{ limit: 0 }, /`limit` must be an integer >= 1/],
      [{ limit: 1_000_000 }, /at most 10000/],
      [{ from: "yesterday" }, /`from` must be an ISO 8601 time/],
      [{ to: new Date(Number.NaN) }, /`to` must be an ISO 8601 time .* got Date\(invalid\)/],
      [{ from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" }, /`to` is earlier than `from`/],
      [{ form: 1 }, /unknown history option `form`/],
    ];
    for (const [query, message] of cases) {
      const error = await silo.history(Ledger, "l-1", query as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(query)).toMatchObject({ code: ErrorCode.InvalidArgument });
      expect((error as Error).message).toMatch(message);
    }
    await expect(silo.history(Volatile, "v")).rejects.toThrow(/Volatile keeps volatile state/);
  });
});

describe("stateAt", () => {
  it("stateAt - equals the live actor's state at every version, with snapshots at random points (property)", async () => {
    const command = fc.oneof(
      fc.record({ kind: fc.constant("credit" as const), amount: fc.integer({ min: 1, max: 100 }) }),
      fc.record({ kind: fc.constant("debit" as const), amount: fc.integer({ min: 1, max: 60 }) }),
      fc.record({ kind: fc.constant("rename" as const), name: fc.string({ maxLength: 5 }) }),
      fc.record({ kind: fc.constant("deactivate" as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 7 }),
        async (commands, snapshotEvery) => {
          class RandomLedger extends Ledger {
            static override snapshotEvery = snapshotEvery;
          }
          const store = new MemoryEventStore();
          const snapshots = new MemorySnapshotStore();
          const silo = await Silo.start({ actors: [RandomLedger], store, snapshots, logger, idleTimeoutMs: 1 });
          try {
            const ledger = silo.get(RandomLedger, "p");
            const seen = new Map<number, LedgerState>([[0, { name: "", balance: 0, entries: 0 }]]);
            for (const c of commands) {
              if (c.kind === "credit") await ledger.credit(c.amount);
              else if (c.kind === "debit") await ledger.debit(c.amount).catch(() => undefined);
              else if (c.kind === "rename") await ledger.rename(c.name);
              else {
                // Deactivation takes a final snapshot: snapshots land at versions no policy would choose.
                await new Promise((resolve) => setTimeout(resolve, 2));
                silo.collectIdle();
                continue;
              }
              const live = await ledger.summary();
              seen.set(live.version, live.state);
            }
            for (const [version, state] of seen) {
              const past = await silo.stateAt(RandomLedger, "p", { version });
              expect(past.version).toBe(version);
              expect(past.state).toEqual(state);
            }
          } finally {
            await silo.stop();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("stateAt - starts from the newest snapshot at or below the target, never from a newer one", async () => {
    const { silo, snapshots } = await startSilo();
    const ledger = silo.get(Ledger, "l-1");
    for (let i = 1; i <= 10; i++) await ledger.credit(1);
    await expect.poll(async () => (await snapshots.load("Ledger/l-1"))?.version).toBe(9);
    // A snapshot at version 6 whose state no replay could produce: proves which snapshot was used.
    await snapshots.save({
      stream: "Ledger/l-1",
      version: 6,
      snapshotVersion: 1,
      state: { name: "snap6", balance: 600, entries: 6 },
      timestamp: "t",
    });

    expect((await silo.stateAt(Ledger, "l-1", { version: 7 })).state).toEqual({
      name: "snap6",
      balance: 601,
      entries: 7,
    });
    expect((await silo.stateAt(Ledger, "l-1", { version: 5 })).state).toEqual({ name: "", balance: 5, entries: 5 });
  });

  it("stateAt - by time: the state after the last event raised at or before that time", async () => {
    const { silo } = await startSilo();
    const ledger = silo.get(Ledger, "l-1");
    await ledger.credit(10);
    await tick();
    await ledger.credit(20);
    const [, second] = (await silo.history(Ledger, "l-1")).events;
    await tick();
    await ledger.credit(30);

    const atSecond = await silo.stateAt(Ledger, "l-1", { time: second?.timestamp as string });
    const before = await silo.stateAt(Ledger, "l-1", { time: new Date(Date.parse(second?.timestamp as string) - 1) });
    const longAgo = await silo.stateAt(Ledger, "l-1", { time: "2000-01-01T00:00:00Z" });

    expect(atSecond).toEqual({
      state: { name: "", balance: 30, entries: 2 },
      version: 2,
      timestamp: second?.timestamp,
    });
    expect(before.version).toBe(1);
    expect(longAgo).toEqual({ state: { name: "", balance: 0, entries: 0 }, version: 0, timestamp: null });
  });

  it("stateAt - never touches the live activation and activates nothing", async () => {
    const { silo } = await startSilo();
    const ledger = silo.get(Ledger, "l-1");
    await ledger.credit(5);
    await ledger.credit(7);

    await silo.stateAt(Ledger, "l-1", { version: 1 });
    await silo.stateAt(Ledger, "l-2", { version: 0 });

    expect(await ledger.summary()).toMatchObject({ version: 2, state: { balance: 12 } });
    expect(silo.activeActors()).toEqual(["Ledger/l-1"]);
  });

  it("stateAt - a version beyond the stream or a malformed point fails with InvalidArgumentError", async () => {
    const { silo } = await startSilo();
    await silo.get(Ledger, "l-1").credit(1);

    await expect(silo.stateAt(Ledger, "l-1", { version: 2 })).rejects.toThrow(
      /has 1 event\(s\), so there is no state at version 2/,
    );
    await expect(silo.stateAt(Ledger, "l-1", { version: -1 })).rejects.toThrow(
      /`stateAt.version` must be an integer >= 0/,
    );
    await expect(silo.stateAt(Ledger, "l-1", {} as never)).rejects.toThrow(
      /exactly one of \{ version: n \} or \{ time/,
    );
    await expect(silo.stateAt(Ledger, "l-1", { version: 1, time: "x" } as never)).rejects.toThrow(/exactly one/);
    await expect(silo.stateAt(Ledger, "l-1", { time: "soon" })).rejects.toThrow(/`stateAt.time` must be an ISO 8601/);
  });
});

describe("asOf references", () => {
  it("asOf - readOnly methods answer from the past state, including the actor's own history up to then", async () => {
    const { silo } = await startSilo();
    const ledger = silo.get(Ledger, "l-1");
    await ledger.credit(10);
    await ledger.credit(20);
    await ledger.debit(5);

    const then = silo.get(Ledger, "l-1", { asOf: { version: 2 } });

    expect(await then.balance()).toBe(30);
    expect(await then.summary()).toEqual({ state: { name: "", balance: 30, entries: 2 }, version: 2 });
    expect(await then.ownHistory()).toEqual([1, 2]);
    expect(await ledger.balance()).toBe(25);
  });

  it("asOf - a state-changing method is refused with PastStateReadOnlyError and changes nothing", async () => {
    const { silo, store } = await startSilo();
    await silo.get(Ledger, "l-1").credit(10);
    const then = silo.get(Ledger, "l-1", { asOf: { version: 1 } }) as unknown as { credit(n: number): Promise<number> };

    const error = await then.credit(5).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PastStateReadOnlyError);
    expect(error).toMatchObject({ code: ErrorCode.PastStateReadOnly, data: { actorType: "Ledger", method: "credit" } });
    expect(await store.latestVersion("Ledger/l-1")).toBe(1);
  });

  it("asOf - a malformed point fails when the reference is made", async () => {
    const { silo } = await startSilo();
    expect(() => silo.get(Ledger, "l-1", { asOf: { version: -3 } })).toThrow(/`asOf.version` must be an integer >= 0/);
  });
});
