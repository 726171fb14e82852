import { Actor } from "@granary/core";
import { RedisEventStore, RedisReminderStore } from "@granary/redis";
import { Client, ownerOf, partitionKey, partitionOf, REMINDER_PARTITIONS } from "@granary/runtime";
import { useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bankErrors } from "../../examples/bank/src/index.js";
import { clusterKey, eventually, type SiloProcess, spawnSilo } from "../helpers/cluster-harness.js";
import { killSilos } from "../helpers/silo-process.js";

/** The fixture silo's Ticker (test/fixtures/bank-silo.mjs): records every tick as a "Ticked" event. */
class Ticker extends Actor {
  static readonly type = "Ticker";
  async start(_inMs: number, _periodMs?: number): Promise<void> {}
}

const redis = useRedisServer();
let admin: Redis;
let silos: SiloProcess[] = [];
let client: Client | undefined;
/** Silos that fenced themselves (a loaded machine missed lease renewals); they rejoin under new ids. */
let fences: string[] = [];

beforeAll(() => {
  admin = new Redis(redis.url);
});
afterAll(() => {
  admin?.disconnect();
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  await killSilos(silos);
  silos = [];
  fences = [];
  await admin.flushall();
});

async function startCluster(count: number, leaseMs = 3_000): Promise<Client> {
  silos = await Promise.all(Array.from({ length: count }, () => spawnSilo({ redisUrl: redis.url, leaseMs })));
  for (const silo of silos) void silo.fenced.then((reason) => fences.push(`${silo.siloId}: ${reason}`));
  client = await Client.connect({ redis: redis.url, clusterKey, errors: bankErrors, callTimeoutMs: 30_000 });
  const connected = client;
  await eventually(() => connected.gateways.length === count, "the client sees every silo");
  return connected;
}

/** Partition → owning silo id, from the directory in Redis. */
async function partitionOwners(): Promise<Map<number, string>> {
  const owners = new Map<number, string>();
  for (let p = 0; p < REMINDER_PARTITIONS; p++) {
    const siloId = await admin.hget(`granary:{default}:dir:${partitionKey(p)}`, "siloId");
    if (siloId) owners.set(p, siloId);
  }
  return owners;
}

function allPartitions(): number[] {
  return Array.from({ length: REMINDER_PARTITIONS }, (_, p) => p);
}

async function ticksOf(store: RedisEventStore, id: string): Promise<{ tickId: string; scheduledAt: string }[]> {
  const events = await store.read(`Ticker/${id}`);
  return events.map((e) => ({ tickId: String(e.data.tickId), scheduledAt: String(e.data.scheduledAt) }));
}

async function retried(op: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function inBatches<T>(items: readonly T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

describe("reminders across silo processes on one Redis", () => {
  it("a reminder whose owning silo is killed (kill -9) fires on a survivor, once", {
    timeout: 120_000,
  }, async () => {
    const connected = await startCluster(3);
    // Given partitions spread as rendezvous hashing over the three silos places them: the first
    // silo up takes every partition and hands most over as the others join, so "all owned" alone
    // is reached long before the spread.
    const siloIds = silos.map((s) => s.siloId);
    await eventually(
      async () => {
        // A fenced silo rejoins under an id this test does not know: the spread can never match.
        if (fences.length > 0) throw new Error(`a silo fenced itself, the machine is too loaded: ${fences.join("; ")}`);
        const owners = await partitionOwners();
        return siloIds.length === 3 && allPartitions().every((p) => owners.get(p) === ownerOf(p, siloIds));
      },
      "the partitions are spread over the three silos",
      30_000,
    );
    const owners = await partitionOwners();
    expect(new Set(owners.values()).size).toBe(3);
    const victim = silos.find((s) => s.siloId === owners.get(partitionOf("Ticker/t0"))) as SiloProcess;
    const ids = Array.from({ length: 60 }, (_, i) => `t${i}`);
    const victimsIds = ids.filter((id) => owners.get(partitionOf(`Ticker/${id}`)) === victim.siloId);
    expect(victimsIds.length).toBeGreaterThan(0);

    // When reminders are registered while the victim owns their partitions, and it dies before they are due
    await inBatches(ids, 20, (id) => connected.get(Ticker, id).start(6_000));
    victim.child.kill("SIGKILL");
    await victim.exited;

    const store = new RedisEventStore({ redis: redis.url });
    const reminders = new RedisReminderStore({ redis: redis.url });
    try {
      // Then the survivors take the victim's partitions ...
      const survivors = siloIds.filter((id) => id !== victim.siloId);
      await eventually(
        async () => {
          const after = await partitionOwners();
          return allPartitions().every((p) => after.get(p) === ownerOf(p, survivors));
        },
        "the survivors own every partition",
        30_000,
      );
      // ... and every one-shot reminder fired and was retired: once its record is gone no silo can
      // fire it again, so the tick count below is final.
      await eventually(
        async () =>
          (await Promise.all(ids.map((id) => reminders.list(`Ticker/${id}`)))).every((list) => list.length === 0),
        "every reminder fired and was retired",
        60_000,
      );
      for (const id of ids) expect(await ticksOf(store, id), id).toHaveLength(1);
    } finally {
      await Promise.all([store.close(), reminders.close()]);
    }
  });

  it("10,000 periodic reminders across 3 silos all fire, none twice within a period", {
    timeout: 400_000,
  }, async () => {
    // A longer lease: on a loaded 2-core machine 3 silos, Redis and 10,000 actors must not lose leases.
    const connected = await startCluster(3, 10_000);
    const ids = Array.from({ length: 10_000 }, (_, i) => `p${i}`);
    const periodMs = 8_000;
    const started = Date.now();
    // Registering again replaces the reminder, so a registration whose reply was lost is retried.
    // Due times spread over one period (1,250 due per second), as real schedules are.
    await inBatches(ids, 500, (id) =>
      retried(() => connected.get(Ticker, id).start(3_000 + (Number(id.slice(1)) % 8) * 1_000, periodMs)),
    );
    const registeredIn = Date.now() - started;

    // Generous: the silos keep Redis busy with ticks while the test reads 10,000 streams.
    const store = new RedisEventStore({ redis: redis.url, commandTimeoutMs: 60_000 });
    try {
      // Two ticks each: the first after 3–10 s, the second one period later.
      await eventually(
        async () => {
          for (let i = 0; i < ids.length; i += 500) {
            const batch = await Promise.all(ids.slice(i, i + 500).map((id) => store.latestVersion(`Ticker/${id}`)));
            if (batch.some((version) => version < 2)) return false;
          }
          return true;
        },
        "every reminder ticked twice",
        300_000,
      );
      const elapsed = Date.now() - started;
      for (let i = 0; i < ids.length; i += 500) {
        const all = await Promise.all(ids.slice(i, i + 500).map((id) => ticksOf(store, id)));
        for (const ticks of all) {
          const scheduled = ticks.map((t) => Date.parse(t.scheduledAt));
          // Each tick is scheduled a whole number of periods (one, unless the machine fell a period
          // behind and "fire-once" folded missed ticks) after the previous: none fired twice.
          for (let k = 1; k < scheduled.length; k++) {
            const gap = (scheduled[k] as number) - (scheduled[k - 1] as number);
            expect(gap).toBeGreaterThanOrEqual(periodMs);
            expect(gap % periodMs).toBe(0);
          }
          expect(new Set(ticks.map((t) => t.tickId)).size).toBe(ticks.length);
          expect(ticks.length).toBeLessThanOrEqual(Math.ceil(elapsed / periodMs) + 1);
        }
      }
      console.log(
        `registered 10,000 reminders through the client in ${registeredIn} ms; two ticks each in ${elapsed} ms`,
      );
    } finally {
      await store.close();
    }
  });
});
