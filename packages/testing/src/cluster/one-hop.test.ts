import { EventSourcedActor } from "@granary/core";
import type { Client, Silo } from "@granary/runtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TestCluster } from "./test-cluster.js";

/** Counts its calls in its history: two activations at once would fork or fence the stream. */
class Tally extends EventSourcedActor<{ n: number }, { type: "Added" }> {
  static readonly type = "Tally";

  initialState() {
    return { n: 0 };
  }
  apply(state: { n: number }) {
    return { n: state.n + 1 };
  }
  async add(): Promise<number> {
    this.raise({ type: "Added" });
    return this.state.n;
  }
}

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const ids = (n: number, prefix = "t") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Client calls the cluster's silos forwarded to another silo, summed (what SiloInfo.routing reports). */
function forwarded(c: TestCluster): number {
  return c.silos.reduce((sum, silo) => sum + silo.admin.info().routing.clientCallsForwarded, 0);
}

function ownerOf(c: TestCluster, id: string): Silo {
  const siloId = c.placements().get(`Tally/${id}`);
  const silo = c.silos.find((s) => s.siloId === siloId);
  if (!silo) throw new Error(`Tally/${id} is not active anywhere`);
  return silo;
}

async function addToAll(client: Client, actorIds: readonly string[]): Promise<number[]> {
  return Promise.all(actorIds.map((id) => client.get(Tally, id).add()));
}

describe("one hop per call (owner hints)", () => {
  it("after its first call, a client's calls go straight to the actor's owner: no silo forwards them", async () => {
    cluster = await TestCluster.start({ actors: [Tally], silos: 3 });
    const c = cluster;
    const client = await c.client();
    const actors = ids(30);

    // Given each actor was called once (random placement: most first calls needed a forward)
    await addToAll(client, actors);
    const before = { forwarded: forwarded(c), ...client.routing };
    expect(before.ownersKnown).toBe(30);

    // When the client calls every actor five more times
    for (let round = 0; round < 5; round++) await addToAll(client, actors);

    // Then every call went to the owner: none was forwarded, and the results are in order
    expect(forwarded(c)).toBe(before.forwarded);
    expect(client.routing.callsToKnownOwner - before.callsToKnownOwner).toBe(150);
    expect(await addToAll(client, actors)).toEqual(actors.map(() => 7));
    const reports = await client.operator.silos();
    const routing = reports.map((r) => ("info" in r ? r.info.routing : undefined));
    expect(routing.reduce((sum, r) => sum + (r?.clientCalls ?? 0), 0)).toBe(client.routing.callsSent);
  });

  it("when the owner silo stops, calls still succeed and the client learns the new owners", async () => {
    cluster = await TestCluster.start({ actors: [Tally], silos: 3 });
    const c = cluster;
    const client = await c.client();
    const actors = ids(30);
    await addToAll(client, actors);
    await addToAll(client, actors);
    const leaving = ownerOf(c, actors[0] as string);
    const moved = actors.filter((id) => ownerOf(c, id) === leaving);

    // When the silo that owns some of the actors leaves the cluster
    await leaving.stop();

    // Then their next calls succeed with their history (the stale owner is dropped, a gateway forwards)
    expect(await addToAll(client, moved)).toEqual(moved.map(() => 3));
    // And from then on every call goes straight to the new owners
    const before = { forwarded: forwarded(c), ...client.routing };
    expect(await addToAll(client, actors)).toEqual(actors.map((id) => (moved.includes(id) ? 4 : 3)));
    expect(forwarded(c)).toBe(before.forwarded);
    expect(client.routing.callsToKnownOwner - before.callsToKnownOwner).toBe(30);
    for (const id of moved) expect(ownerOf(c, id)).not.toBe(leaving);
  });

  it("when an actor moves to another silo, the stale owner forwards its call and the client's hint is corrected", async () => {
    cluster = await TestCluster.start({
      actors: [Tally],
      silos: 3,
      placement: "local",
      siloOptions: { idleTimeoutMs: 100, collectionIntervalMs: 3_600_000 },
    });
    const c = cluster;
    const client = await c.client();
    const actors = ids(12);
    await addToAll(client, actors);
    const [first, second] = c.silos as [Silo, Silo];
    const moving = actors.filter((id) => ownerOf(c, id) === first);
    expect(moving.length).toBeGreaterThan(0);

    // Given the actors on the first silo went idle there (idleTimeoutMs: 100) and were re-activated
    // on the second
    await vi.waitFor(
      () => {
        first.collectIdle();
        expect(first.activationCount).toBe(0);
      },
      { timeout: 5_000 },
    );
    await Promise.all(moving.map((id) => second.get(Tally, id).add()));
    for (const id of moving) expect(ownerOf(c, id)).toBe(second);

    // When the client calls them (it still names the first silo as their owner)
    const forwardedBefore = forwarded(c);
    expect(await addToAll(client, moving)).toEqual(moving.map(() => 3));

    // Then the first silo forwarded each call once, nothing activated there, and the next calls go direct
    expect(forwarded(c) - forwardedBefore).toBe(moving.length);
    expect(first.activationCount).toBe(0);
    const before = client.routing.callsToKnownOwner;
    await addToAll(client, moving);
    expect(forwarded(c) - forwardedBefore).toBe(moving.length);
    expect(client.routing.callsToKnownOwner - before).toBe(moving.length);
  });

  it("stale hints that disagree never cause a second activation: every call runs on the one owner, in order", async () => {
    cluster = await TestCluster.start({
      actors: [Tally],
      silos: 3,
      // Local placement: a silo that receives a call for an inactive actor activates it itself, so
      // clients with different stale hints make different silos race for the same actor.
      placement: "local",
      siloOptions: { idleTimeoutMs: 100, collectionIntervalMs: 3_600_000 },
    });
    const c = cluster;
    const clients = [await c.client(), await c.client(), await c.client()];
    const actors = ids(20);
    const idleEverywhere = () =>
      vi.waitFor(
        () => {
          for (const silo of c.silos) silo.collectIdle();
          expect(c.placements().size).toBe(0);
        },
        { timeout: 5_000 },
      );
    // Each client learns the owners at a different time, with the actors deactivated in between,
    // and with its round robin shifted by k calls to other actors first: their hints disagree.
    let calls = 0;
    for (const [k, client] of clients.entries()) {
      for (let w = 0; w < k; w++) await client.get(Tally, `warm-${k}-${w}`).add();
      await addToAll(client, actors);
      calls++;
      await idleEverywhere();
    }

    // When every client calls every actor 5 times at once
    const results = await Promise.all(
      clients.flatMap((client) => actors.flatMap((id) => Array.from({ length: 5 }, () => client.get(Tally, id).add()))),
    );
    calls += 15;

    // Then each actor has one activation, and its calls saw each count exactly once
    const owners = c.placements();
    for (const silo of c.silos) {
      for (const key of silo.activeActors()) expect(owners.get(key), `${key} active on two silos`).toBe(silo.siloId);
    }
    for (const [i, id] of actors.entries()) {
      const seen = results.filter((_, n) => Math.floor(n / 5) % actors.length === i).sort((a, b) => a - b);
      expect(seen, id).toEqual(Array.from({ length: 15 }, (_, n) => calls - 15 + n + 1));
      expect(await c.store.latestVersion(`Tally/${id}`)).toBe(calls);
    }
  });
});
