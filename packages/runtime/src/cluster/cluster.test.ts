import { MemoryDirectory, MemoryEventStore, MemoryMembership, MemorySnapshotStore } from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Account, Counter, InsufficientFunds } from "../__fixtures__/actors.js";
import { Client } from "../client/client.js";
import { hashPlacement } from "../placement/placement.js";
import { Silo } from "../silo/silo.js";

const logger = pino({ level: "silent" });
const clusterKey = "in-process-test-cluster-key-0123456789";
const running: { stop?: () => Promise<void>; close?: () => Promise<void> }[] = [];

afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((r) => (r.stop ? r.stop() : r.close?.())));
});

function inProcessCluster() {
  const membership = new MemoryMembership();
  const directory = new MemoryDirectory({ isLive: (id) => membership.isLive(id) });
  const store = new MemoryEventStore();
  const snapshots = new MemorySnapshotStore();
  const startSilo = async (extra: Partial<Parameters<typeof Silo.start>[0]> = {}) => {
    const silo = await Silo.start({
      actors: [Account, Counter],
      errors: [InsufficientFunds],
      membership,
      directory,
      store,
      snapshots,
      clusterKey,
      port: 0,
      leaseMs: 5_000,
      logger,
      ...extra,
    });
    running.push(silo);
    return silo;
  };
  const connect = async (extra: Partial<Parameters<typeof Client.connect>[0]> = {}) => {
    const client = await Client.connect({
      membership,
      clusterKey,
      errors: [InsufficientFunds],
      callTimeoutMs: 10_000,
      ...extra,
    });
    running.push(client);
    return client;
  };
  return { membership, directory, store, startSilo, connect };
}

describe("in-process cluster over TCP", () => {
  it("each actor has exactly one activation in the cluster, and activations spread over all silos", async () => {
    const cluster = inProcessCluster();
    const silos = [await cluster.startSilo(), await cluster.startSilo(), await cluster.startSilo()];
    const clients = [await cluster.connect(), await cluster.connect()];
    const actors = 300;
    await Promise.all(
      Array.from({ length: actors * 2 }, (_, i) => clients[i % 2]?.get(Account, `acc-${i % actors}`).deposit(1)),
    );
    const owners = new Map<string, string>();
    for (const silo of silos) {
      for (const key of silo.activeActors()) {
        expect(owners.has(key), `${key} active on two silos`).toBe(false);
        owners.set(key, silo.siloId);
      }
      expect(silo.activationCount).toBeGreaterThan(actors / 10);
    }
    expect(owners.size).toBe(actors);
    for (let i = 0; i < actors; i++) expect(await cluster.store.latestVersion(`Account/acc-${i}`)).toBe(2);
  });

  it("two silos racing to activate the same actor: one wins, the other forwards", async () => {
    const cluster = inProcessCluster();
    const [a, b] = [await cluster.startSilo({ placement: "local" }), await cluster.startSilo({ placement: "local" })];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).get(Counter, "contested").increment()),
    );
    expect(results.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(a.activationCount + b.activationCount).toBe(1);
  });

  it("domain errors cross the wire with their class, name, code and message", async () => {
    const cluster = inProcessCluster();
    await cluster.startSilo();
    const client = await cluster.connect();
    const error = await client
      .get(Account, "poor")
      .withdraw(5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientFunds);
    expect(error).toMatchObject({ name: "InsufficientFunds", code: "INSUFFICIENT_FUNDS", data: { amount: 5 } });
  });

  it("actor-to-actor calls across silos keep reentrancy (A → B → A on different silos)", async () => {
    const cluster = inProcessCluster();
    const [a, b] = [await cluster.startSilo({ placement: "hash" }), await cluster.startSilo({ placement: "hash" })];
    // Two ids that hash to different silos, so the chain crosses the wire both ways.
    const live = [a.siloId, b.siloId];
    const placeOf = (id: string) =>
      hashPlacement.place({ actorKey: `Account/${id}`, self: a.siloId, fromActor: false, live });
    const x = "x";
    const y = Array.from({ length: 100 }, (_, i) => `y${i}`).find((id) => placeOf(id) !== placeOf(x)) as string;
    const result = await a.get(Account, x).pingPong(y);
    expect(result).toBe(101);
    expect(a.activeActors().length).toBe(1);
    expect(b.activeActors().length).toBe(1);
  });

  it("a gracefully stopped silo's actors re-activate on the others with their history", async () => {
    const cluster = inProcessCluster();
    const silos = [await cluster.startSilo(), await cluster.startSilo()];
    const client = await cluster.connect();
    await Promise.all(Array.from({ length: 40 }, (_, i) => client.get(Account, `a-${i}`).deposit(5)));
    const leaving = silos[0] as Silo;
    const moved = leaving.activeActors().length;
    expect(moved).toBeGreaterThan(0);
    await leaving.stop();
    const balances = await Promise.all(Array.from({ length: 40 }, (_, i) => client.get(Account, `a-${i}`).deposit(1)));
    expect(balances.every((b) => b === 6)).toBe(true);
    expect((silos[1] as Silo).activationCount).toBe(40);
  });

  it("ownerCacheSize 0: the client learns no owners and every call goes to the next gateway, which forwards most", async () => {
    const cluster = inProcessCluster();
    const silos = [await cluster.startSilo(), await cluster.startSilo(), await cluster.startSilo()];
    const client = await cluster.connect({ ownerCacheSize: 0 });

    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 30 }, (_, i) => client.get(Counter, `c-${i}`).increment()));
    }

    expect(client.routing).toEqual({ callsSent: 90, callsToKnownOwner: 0, ownersKnown: 0 });
    const routing = silos.map((silo) => silo.admin.info().routing);
    expect(routing.reduce((sum, r) => sum + r.clientCalls, 0)).toBe(90);
    // Round robin over 3 silos: about two calls in three land away from their owner.
    expect(routing.reduce((sum, r) => sum + r.clientCallsForwarded, 0)).toBeGreaterThan(20);
  });

  it("a wrong cluster key cannot call", async () => {
    const cluster = inProcessCluster();
    await cluster.startSilo();
    const intruder = await Client.connect({
      membership: cluster.membership,
      clusterKey: "definitely-not-the-right-key!!",
    });
    running.push(intruder);
    await expect(intruder.get(Counter, "c").increment()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});
