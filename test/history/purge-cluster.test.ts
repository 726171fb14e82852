import { ErrorCode, type Snapshot } from "@granary/core";
import { TestCluster } from "@granary/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Ledger } from "../../packages/runtime/src/__fixtures__/ledger.js";

const REQUEST = { reason: "GDPR erasure request #7", requestedBy: "dpo@example.com" };
let cluster: TestCluster | undefined;

afterEach(async () => {
  Ledger.gate = Promise.resolve();
  await cluster?.stop();
  cluster = undefined;
});

describe("purge in a 3-silo cluster", () => {
  it("cluster purge - a silo that does not host the actor purges it: the owner deactivates it without snapshot and nothing reactivates it", async () => {
    cluster = await TestCluster.start({ actors: [Ledger], silos: 3 });
    const client = await cluster.client();
    const ledger = client.get(Ledger, "ada");
    for (let i = 0; i < 5; i++) await ledger.credit(10, "ada@example.com");
    const owner = cluster.placements().get("Ledger/ada") as string;
    const caller = cluster.silos.find((s) => s.siloId !== owner);
    if (!caller) throw new Error("no silo other than the owner");
    const saves: Snapshot[] = [];
    const save = cluster.snapshots.save.bind(cluster.snapshots);
    cluster.snapshots.save = async (snapshot) => {
      saves.push(snapshot);
      await save(snapshot);
    };

    const tombstone = await caller.purge(Ledger, "ada", REQUEST);

    expect(tombstone).toMatchObject({ stream: "Ledger/ada", lastVersion: 5, ...REQUEST });
    expect(cluster.placements().has("Ledger/ada")).toBe(false);
    expect(await cluster.snapshots.load("Ledger/ada")).toBeUndefined();
    await expect(ledger.credit(1)).rejects.toMatchObject({ code: ErrorCode.StreamPurged });
    await expect(caller.get(Ledger, "ada").balance()).rejects.toMatchObject({ code: ErrorCode.StreamPurged });
    expect(cluster.placements().has("Ledger/ada")).toBe(false);
    await cluster.stop();
    expect(saves.filter((s) => s.stream === "Ledger/ada")).toEqual([]);
    // No event of the purged actor is left in the feed, only the notice projections hear the purge by.
    expect((await cluster.store.readAll(0)).map((e) => [e.type, e.data])).toEqual([
      ["StreamPurged", { stream: "Ledger/ada" }],
    ]);
  });

  it("cluster purge - through the client, racing a command in flight on the owner: the command's turn ends first and waiting calls fail as purged", async () => {
    cluster = await TestCluster.start({ actors: [Ledger], silos: 3 });
    const client = await cluster.client();
    const ledger = client.get(Ledger, "bob");
    await ledger.credit(1);
    let release = (): void => {};
    Ledger.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = Ledger.slowStarted;
    const running = ledger.slowCredit(2);
    await expect.poll(() => Ledger.slowStarted).toBe(started + 1);
    const waiting = ledger.credit(3).catch((e: unknown) => e);
    const owner = cluster.silos.find((s) => s.siloId === cluster?.placements().get("Ledger/bob"));
    const activation = () => owner?.admin.activation("Ledger", "bob");
    // The third call waits in the owner's mailbox behind the running turn ...
    await expect.poll(() => activation()?.mailboxDepth).toBe(1);

    const purge = client.purge(Ledger, "bob", REQUEST);
    // ... and the purge has reached the owner (no new turn starts) before the running turn ends.
    await expect.poll(() => activation()?.state).toBe("deactivating");
    release();

    expect(await running).toBe(3);
    expect(await purge).toMatchObject({ lastVersion: 2, ...REQUEST });
    expect(await waiting).toMatchObject({ code: ErrorCode.StreamPurged });
    // No event of the purged actor is left in the feed, only the notice projections hear the purge by.
    expect((await cluster.store.readAll(0)).map((e) => [e.type, e.data])).toEqual([
      ["StreamPurged", { stream: "Ledger/bob" }],
    ]);
  });

  it("cluster purge - an actor active nowhere is purged by whichever silo placement picks, holding its directory entry meanwhile", async () => {
    cluster = await TestCluster.start({ actors: [Ledger], silos: 3 });
    const client = await cluster.client();
    await client.get(Ledger, "cy").credit(4);
    for (const silo of cluster.silos) silo.collectIdle();
    await cluster.silos[0]?.stop();
    cluster.silos.shift();

    const tombstone = await client.purge(Ledger, "cy", REQUEST);
    const again = await cluster.silos[1]?.purge(Ledger, "cy", { reason: "twice", requestedBy: "x" });

    expect(tombstone.lastVersion).toBe(1);
    expect(again).toEqual(tombstone);
    expect(await cluster.directory.lookup("Ledger/cy")).toBeUndefined();
    expect(cluster.placements().size).toBe(0);
  });
});
