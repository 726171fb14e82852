import { RedisEventStore } from "@granary/redis";
import { Client } from "@granary/runtime";
import { useRedisServer } from "@granary/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Account, bankErrors } from "../../examples/bank/src/index.js";
import { clusterKey, eventually, type SiloProcess, spawnSilo } from "../helpers/cluster-harness.js";
import { depositLoad, type RunningLoad } from "../helpers/load.js";
import { killSilos } from "../helpers/silo-process.js";

const redis = useRedisServer();
let silos: SiloProcess[] = [];
let clients: Client[] = [];

afterEach(async () => {
  // Silos first: a failed test may leave calls in flight that a client's close would wait for.
  await killSilos(silos);
  await Promise.allSettled(clients.map((c) => c.close()));
  silos = [];
  clients = [];
  // Each test gets an empty Redis (the server stays up).
  const { Redis } = await import("ioredis");
  const admin = new Redis(redis.url);
  await admin.flushall();
  await admin.quit();
});

async function startCluster(silosCount: number, clientCount: number): Promise<void> {
  silos = await Promise.all(Array.from({ length: silosCount }, () => spawnSilo({ redisUrl: redis.url })));
  clients = await Promise.all(
    Array.from({ length: clientCount }, () =>
      Client.connect({ redis: redis.url, clusterKey, errors: bankErrors, callTimeoutMs: 20_000 }),
    ),
  );
  await eventually(() => clients.every((c) => c.gateways.length === silosCount), "clients see every silo");
}

async function openAccounts(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `acc-${i}`);
  await Promise.all(ids.map((id, i) => clients[i % clients.length]?.get(Account, id).open(`owner-${id}`)));
  return ids;
}

/** Every stream has versions 1..n without gaps or duplicates, and every acknowledged deposit is in it. */
async function checkHistories(ids: readonly string[], acked: Map<string, string[]>, unknown: Map<string, number>) {
  const store = new RedisEventStore({ redis: redis.url });
  try {
    for (const id of ids) {
      const events = await store.read(`Account/${id}`);
      expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      const tags = events.filter((e) => e.type === "MoneyDeposited").map((e) => e.data.transferId);
      for (const tag of acked.get(id) ?? []) expect(tags, `acknowledged deposit ${tag} of ${id}`).toContain(tag);
      const balance = await clients[0]?.get(Account, id).balance();
      const ackedCount = acked.get(id)?.length ?? 0;
      // A call whose connection dropped may or may not have committed: it is the only slack allowed.
      expect(balance).toBeGreaterThanOrEqual(ackedCount);
      expect(balance).toBeLessThanOrEqual(ackedCount + (unknown.get(id) ?? 0));
    }
  } finally {
    await store.close();
  }
}

/** Runs 32 deposit loops over `ids`; once 200 deposits went through, `during` acts; then the load stops. */
async function underLoad(ids: readonly string[], during: (load: RunningLoad) => Promise<void>) {
  let stopLoad: () => void = () => {};
  const until = new Promise<void>((resolve) => {
    stopLoad = resolve;
  });
  const load = depositLoad(clients, ids, 32, until);
  try {
    await eventually(() => load.acknowledged() >= 200, "the load is running");
    await during(load);
  } finally {
    stopLoad();
  }
  return load.done;
}

/** Waits until another `count` deposits went through: the cluster serves again. */
async function progressed(load: RunningLoad, count: number, what: string): Promise<void> {
  const target = load.acknowledged() + count;
  await eventually(() => load.acknowledged() >= target, what, 60_000);
}

// Multi-process tests on a 2-core machine: the timeout is a guard against a hang, not a budget.
describe("a cluster of silo processes on one Redis", { timeout: 180_000 }, () => {
  it("3 silos, 2 clients, 1,000 actors under concurrent load: one activation per actor, spread over all silos", async () => {
    await startCluster(3, 2);
    const ids = await openAccounts(1_000);
    await Promise.all(
      ids.flatMap((id, i) => [0, 1].map((k) => clients[(i + k) % 2]?.get(Account, id).deposit(1, `d${k}`))),
    );
    const active = await Promise.all(silos.map((s) => s.activeActors()));
    const all = active.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((key) => key.startsWith("Account/")).length).toBe(1_000);
    for (const perSilo of active) expect(perSilo.length).toBeGreaterThan(150);
    const store = new RedisEventStore({ redis: redis.url });
    for (const id of ids.slice(0, 100)) expect(await store.latestVersion(`Account/${id}`)).toBe(3);
    await store.close();
  });

  it("kill -9 of a silo under load: its actors re-activate on survivors and no acknowledged deposit is lost", async () => {
    await startCluster(3, 2);
    const ids = await openAccounts(200);
    const result = await underLoad(ids, async (load) => {
      const victim = silos[0] as SiloProcess;
      victim.child.kill("SIGKILL");
      await victim.exited;
      // Survivors take over once the victim's lease (3 s) has expired and it left the gateway lists.
      const victimAddress = `127.0.0.1:${victim.port}`;
      await eventually(
        () => clients.every((c) => !c.gateways.includes(victimAddress)),
        "the victim's lease expired",
        60_000,
      );
      await progressed(load, 300, "deposits go through after the victim's lease expired");
    });
    // Only calls in flight on the killed silo may fail with an "outcome unknown" error; a survivor
    // re-activating the victim's actors on a busy machine may also shed calls at its door with
    // OVERLOADED, which says nothing ran (and so cannot lose an acknowledged deposit).
    const allowed = new Set(["CONNECTION_ERROR", "OVERLOADED"]);
    expect(Object.keys(countBy(result.failures.map((f) => f.code))).filter((c) => !allowed.has(c))).toEqual([]);
    const ackedTotal = [...result.acked.values()].reduce((n, tags) => n + tags.length, 0);
    expect(ackedTotal).toBeGreaterThan(500);
    // After the lease expired, every account answers from a survivor.
    await Promise.all(ids.map((id) => clients[1]?.get(Account, id).deposit(1, "after-crash")));
    for (const id of ids) result.acked.set(id, [...(result.acked.get(id) ?? []), "after-crash"]);
    // The client forgot the dead silo as an owner and learned the survivors: every next call goes
    // straight to its actor's owner, and no silo forwards one (their counters, as operators see them).
    const client = clients[1] as Client;
    const forwardedBefore = await clientCallsForwarded(client);
    const directBefore = client.routing.callsToKnownOwner;
    await Promise.all(ids.map((id) => client.get(Account, id).deposit(1, "direct")));
    for (const id of ids) result.acked.set(id, [...(result.acked.get(id) ?? []), "direct"]);
    expect(client.routing.callsToKnownOwner - directBefore).toBe(ids.length);
    expect(await clientCallsForwarded(client)).toBe(forwardedBefore);
    await checkHistories(ids, result.acked, result.unknown);
    const survivors = await Promise.all(silos.slice(1).map((s) => s.activeActors()));
    expect(survivors.flat().filter((k) => k.startsWith("Account/")).length).toBe(200);
  });

  it("SIGTERM of a silo under load: no call fails, its actors move with their history", async () => {
    await startCluster(3, 2);
    const ids = await openAccounts(200);
    const result = await underLoad(ids, async (load) => {
      const leaving = silos[0] as SiloProcess;
      leaving.child.kill("SIGTERM");
      expect(await leaving.exited).toBe(0);
      await progressed(load, 200, "deposits go through after the silo left");
    });
    expect(result.failures).toEqual([]);
    await checkHistories(ids, result.acked, result.unknown);
  });
});

/** Client calls forwarded by the live silos, summed from their operator info. */
async function clientCallsForwarded(client: Client): Promise<number> {
  const reports = await client.operator.silos();
  return reports.reduce((sum, r) => sum + ("info" in r ? r.info.routing.clientCallsForwarded : Number.NaN), 0);
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
