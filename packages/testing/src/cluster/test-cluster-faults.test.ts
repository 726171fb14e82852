import { EventSourcedActor, ManualClock } from "@granary/core";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "./test-cluster.js";

type LedgerEvent = { type: "Posted"; amount: number; note: string };

class Ledger extends EventSourcedActor<{ total: number }, LedgerEvent> {
  static readonly type = "Ledger";

  initialState() {
    return { total: 0 };
  }

  apply(state: { total: number }, event: LedgerEvent) {
    return { total: state.total + event.amount };
  }

  async post(amount: number, note: string): Promise<number> {
    this.raise({ type: "Posted", amount, note });
    return this.state.total;
  }

  async total(): Promise<number> {
    return this.state.total;
  }
}

const LEASE_MS = 4_000;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function start(silos: number): Promise<TestCluster> {
  return TestCluster.start({ actors: [Ledger], silos, clock: new ManualClock(), siloOptions: { leaseMs: LEASE_MS } });
}

/** The ids of the ledgers active on `siloId`. */
function heldBy(c: TestCluster, siloId: string): string[] {
  return [...c.placements()].filter(([, owner]) => owner === siloId).map(([key]) => key.slice("Ledger/".length));
}

describe("TestCluster faults on a manual clock", () => {
  it("crash - every actor of a crashed silo moves to a survivor with its history, once its lease expires", async () => {
    cluster = await start(3);
    const client = await cluster.client();
    const ids = Array.from({ length: 60 }, (_, i) => `l${i}`);
    await Promise.all(ids.map((id) => client.get(Ledger, id).post(10, "before")));
    const victim = cluster.silos[1]!;
    const lost = heldBy(cluster, victim.siloId);
    expect(lost.length).toBeGreaterThan(0);

    // When the silo crashes and two leases' worth of time passes (on the manual clock: at once)
    cluster.crash(1);
    await cluster.advance(2 * LEASE_MS);

    // Then the survivors have written it off and every one of its actors answers from a survivor,
    // rebuilt from its history
    expect(await cluster.membership.liveMembers()).toHaveLength(2);
    const totals = await Promise.all(lost.map((id) => client.get(Ledger, id).post(1, "after")));
    expect(totals).toEqual(lost.map(() => 11));
    const owners = cluster.placements();
    const survivors = [cluster.silos[0]!.siloId, cluster.silos[2]!.siloId];
    for (const id of lost) expect(survivors).toContain(owners.get(`Ledger/${id}`));
    for (const id of lost) expect(await cluster.store.latestVersion(`Ledger/${id}`)).toBe(2);
  });

  it("partition - a zombie's append that lands after its actor moved is refused by the store's epoch", async () => {
    cluster = await start(2);
    const zombie = cluster.silos[0]!;
    const survivor = cluster.silos[1]!;
    // Given an actor active on silo 0
    const id = await activateOn(cluster, 0);
    // And silo 0's appends taking 10 s to reach the store
    cluster.slowStore(10_000, 0);
    const zombieCall = zombie
      .get(Ledger, id)
      .post(1_000, "zombie")
      .then(
        () => "acknowledged",
        (error: unknown) => error,
      );
    await cluster.advance(0);

    // When silo 0 is cut off while that append is on its way, and its lease runs out
    cluster.partition(0);
    await cluster.advance(2 * LEASE_MS);
    expect(cluster.membership.isLive(zombie.siloId)).toBe(false);

    // Then the actor moves to the survivor, which writes at a higher epoch
    expect(await survivor.get(Ledger, id).post(1, "moved")).toBe(11);
    // And the zombie's append, landing afterwards, is refused by the store for its older epoch: its
    // caller never got an acknowledgement
    await cluster.advance(10_000);
    expect(await zombieCall).toMatchObject({ code: "STALE_ACTIVATION", cause: { code: "FENCED_WRITE" } });
    const notes = (await cluster.store.read(`Ledger/${id}`)).map((e) => (e.data as LedgerEvent).note);
    expect(notes).toEqual(["before", "moved"]);
  });

  it("partition and heal - the cut-off silo fences itself, then rejoins under a new identity and serves again", async () => {
    cluster = await start(2);
    const client = await cluster.client();
    const id = await activateOn(cluster, 0);
    const first = cluster.silos[0]!.siloId;

    cluster.partition(0);
    await cluster.advance(2 * LEASE_MS);
    expect(cluster.silos[0]!.activeActors()).toEqual([]);
    expect(await client.get(Ledger, id).post(1, "while cut off")).toBe(11);

    cluster.heal(0);
    await cluster.advance(LEASE_MS);
    const rejoined = cluster.silos[0]!.siloId;
    expect(rejoined).not.toBe(first);
    expect(cluster.membership.isLive(rejoined)).toBe(true);
    expect(await cluster.silos[0]!.get(Ledger, `${id}-new`).post(2, "after heal")).toBe(2);
  });

  it("failStore - an append that fails is not acknowledged and leaves no event; restoring the store heals", async () => {
    cluster = await start(2);
    const client = await cluster.client();
    cluster.failStore(new Error("disk full"));
    await expect(client.get(Ledger, "f").post(1, "lost")).rejects.toThrow(/disk full/);
    expect(await cluster.store.latestVersion("Ledger/f")).toBe(0);

    cluster.failStore(undefined);
    expect(await client.get(Ledger, "f").post(2, "kept")).toBe(2);
  });
});

/** Activates a fresh ledger on silo `index` (with one event) and returns its id. */
async function activateOn(c: TestCluster, index: number): Promise<string> {
  const silo = c.silos[index]!;
  for (let i = 0; i < 100; i++) {
    const id = `on-${index}-${i}`;
    await silo.get(Ledger, id).post(10, "before");
    if (silo.activeActors().includes(`Ledger/${id}`)) return id;
  }
  throw new Error(`no ledger landed on silo ${index} in 100 tries`);
}
