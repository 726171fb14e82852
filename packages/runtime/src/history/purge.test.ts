import {
  ErrorCode,
  type EventStore,
  MemoryEventStore,
  MemorySnapshotStore,
  type Snapshot,
  type SnapshotStore,
  StreamPurgedError,
} from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Ledger, Volatile } from "../__fixtures__/ledger.js";
import { Silo } from "../silo/silo.js";
import type { PurgedActor } from "./purge.js";

const logger = pino({ level: "silent" });
const silos: Silo[] = [];
const REQUEST = { reason: "GDPR erasure #42", requestedBy: "dpo@example.com" };

/** Records every save that reached the store, and can hold saves until released. */
class WatchedSnapshots extends MemorySnapshotStore {
  saved: Snapshot[] = [];
  hold: Promise<void> | undefined;
  holding = 0;
  override async save(snapshot: Snapshot): Promise<void> {
    if (this.hold) {
      this.holding++;
      await this.hold;
    }
    await super.save(snapshot);
    this.saved.push(snapshot);
  }
}

async function startSilo(snapshots: SnapshotStore = new WatchedSnapshots()) {
  const store = new MemoryEventStore();
  const silo = await Silo.start({ actors: [Ledger, Volatile], store, snapshots, logger });
  silos.push(silo);
  return { silo, store, snapshots: snapshots as WatchedSnapshots };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

afterEach(async () => {
  Ledger.gate = Promise.resolve();
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

/** The feed after purges: no event of a purged stream is left, only the notice naming it (for projections). */
async function feedAfterPurge(store: EventStore): Promise<[string, unknown][]> {
  return (await store.readAll(0)).map((e) => [e.type, e.data]);
}

describe("purge", () => {
  it("purge - a live actor is deactivated without a snapshot, its events and snapshots erased, and the tombstone says who, when and why", async () => {
    const { silo, store, snapshots } = await startSilo();
    const ledger = silo.get(Ledger, "ada");
    for (let i = 0; i < 7; i++) await ledger.credit(10, "ada@example.com");
    await expect.poll(() => snapshots.saved.length).toBe(2);
    const before = Date.now();

    const tombstone = await silo.purge(Ledger, "ada", REQUEST);

    expect(tombstone).toMatchObject({ stream: "Ledger/ada", lastVersion: 7, ...REQUEST });
    expect(Date.parse(tombstone.purgedAt)).toBeGreaterThanOrEqual(before - 1_000);
    expect(silo.activeActors()).toEqual([]);
    expect(await snapshots.load("Ledger/ada")).toBeUndefined();
    expect(await feedAfterPurge(store)).toEqual([["StreamPurged", { stream: "Ledger/ada" }]]);
    await silo.stop();
    expect(snapshots.saved.length).toBe(2);
    expect(await snapshots.load("Ledger/ada")).toBeUndefined();
  });

  it("purge - afterwards every call, history and stateAt of the actor fails with StreamPurgedError", async () => {
    const { silo } = await startSilo();
    await silo.get(Ledger, "ada").credit(5);
    await silo.purge(Ledger, "ada", REQUEST);

    const call = await silo
      .get(Ledger, "ada")
      .balance()
      .catch((e: unknown) => e);

    expect(call).toBeInstanceOf(StreamPurgedError);
    expect(call).toMatchObject({ code: ErrorCode.StreamPurged, reason: REQUEST.reason });
    await expect(silo.history(Ledger, "ada")).rejects.toMatchObject({ code: ErrorCode.StreamPurged });
    await expect(silo.stateAt(Ledger, "ada", { version: 0 })).rejects.toMatchObject({ code: ErrorCode.StreamPurged });
    await expect(silo.get(Ledger, "ada", { asOf: { version: 1 } }).balance()).rejects.toMatchObject({
      code: ErrorCode.StreamPurged,
    });
    expect(silo.activeActors()).toEqual([]);
  });

  it("purge - racing an in-flight command: the running turn commits first and is erased too; waiting calls fail as purged", async () => {
    const { silo, store } = await startSilo();
    const ledger = silo.get(Ledger, "ada");
    await ledger.credit(1);
    const gate = deferred();
    Ledger.gate = gate.promise;
    const running = ledger.slowCredit(2);
    const waiting = ledger.credit(3).catch((e: unknown) => e);
    await expect.poll(() => silo.activeActors()).toEqual(["Ledger/ada"]);

    const purge = silo.purge(Ledger, "ada", REQUEST);
    gate.resolve();

    expect(await running).toBe(3);
    expect((await purge).lastVersion).toBe(2);
    expect(await waiting).toMatchObject({ code: ErrorCode.StreamPurged });
    expect(await feedAfterPurge(store)).toEqual([["StreamPurged", { stream: "Ledger/ada" }]]);
  });

  it("purge - racing a periodic snapshot: a save that lands after the purge is refused by the store", async () => {
    const snapshots = new WatchedSnapshots();
    const { silo } = await startSilo(snapshots);
    const hold = deferred();
    snapshots.hold = hold.promise;
    const ledger = silo.get(Ledger, "ada");
    for (let i = 0; i < 3; i++) await ledger.credit(1);
    await expect.poll(() => snapshots.holding).toBe(1);

    await silo.purge(Ledger, "ada", REQUEST);
    hold.resolve();

    await expect
      .poll(async () => (await snapshots.save(snapshotOf(9)).catch((e: unknown) => e)) as unknown)
      .toMatchObject({
        code: ErrorCode.StreamPurged,
      });
    expect(snapshots.saved).toEqual([]);
    expect(await snapshots.load("Ledger/ada")).toBeUndefined();
  });

  it("purge - an actor never activated is purged without activating it; purging again returns the first tombstone", async () => {
    const { silo, store } = await startSilo();
    await silo.get(Ledger, "ada").credit(1);
    await silo.stop();
    const again = await Silo.start({ actors: [Ledger], store, snapshots: new MemorySnapshotStore(), logger });
    silos.push(again);

    const first = await again.purge(Ledger, "ada", REQUEST);
    const second = await again.purge(Ledger, "ada", { reason: "again", requestedBy: "someone" });

    expect(first).toMatchObject({ lastVersion: 1, ...REQUEST });
    expect(second).toEqual(first);
    expect(again.activeActors()).toEqual([]);
  });

  it("purge - listeners hear of each purge on the silo that ran it, after the tombstone is written", async () => {
    const { silo, store } = await startSilo();
    await silo.get(Ledger, "ada").credit(1);
    const heard: (PurgedActor & { tombstoneStored: boolean; noticed: boolean })[] = [];
    const stop = silo.onPurge(async (purged) => {
      const tombstoneStored = (await store.tombstone("Ledger/ada")) !== undefined;
      const noticed = (await store.readAll(purged.noticePosition - 1)).some((e) => e.type === "StreamPurged");
      heard.push({ ...purged, tombstoneStored, noticed });
    });
    silo.onPurge(() => {
      throw new Error("a broken listener does not undo the purge");
    });

    const tombstone = await silo.purge(Ledger, "ada", REQUEST);
    stop();
    await silo.purge(Ledger, "bob", REQUEST);

    expect(heard).toEqual([
      {
        actorType: "Ledger",
        actorId: "ada",
        tombstone,
        noticePosition: expect.any(Number),
        tombstoneStored: true,
        noticed: true,
      },
    ]);
  });

  it("purge - an append that meets a purged stream deactivates the activation", async () => {
    const { silo, store } = await startSilo();
    const ledger = silo.get(Ledger, "ada");
    await ledger.credit(1);
    await store.purge("Ledger/ada", REQUEST);

    await expect(ledger.credit(2)).rejects.toMatchObject({ code: ErrorCode.StreamPurged });
    await expect.poll(() => silo.activeActors()).toEqual([]);
  });

  it("purge - a request without reason or requestedBy, or for a volatile actor, is refused with a clear error", async () => {
    const { silo } = await startSilo();
    await expect(silo.purge(Ledger, "ada", { reason: "", requestedBy: "dpo" })).rejects.toThrow(/non-empty `reason`/);
    await expect(silo.purge(Ledger, "ada", { reason: "x" } as never)).rejects.toThrow(/non-empty `requestedBy`/);
    await expect(silo.purge(Ledger, "ada", { reason: "x".repeat(1_001), requestedBy: "d" })).rejects.toThrow(
      /at most 1000/,
    );
    await expect(silo.purge(Volatile, "v", REQUEST)).rejects.toThrow(/volatile state/);
  });
});

function snapshotOf(version: number): Snapshot {
  return {
    stream: "Ledger/ada",
    version,
    snapshotVersion: 1,
    state: { name: "", balance: 1, entries: 1 },
    timestamp: "t",
  };
}
