import { RedisEventStore } from "@granary/redis";
import { Client } from "@granary/runtime";
import { useRedisServer } from "@granary/testing";
import { afterAll, describe, expect, it } from "vitest";
import { Account, bankErrors } from "../../examples/bank/src/index.js";
import { clusterKey, eventually, type SiloProcess, spawnSilo } from "../helpers/cluster-harness.js";
import { killSilos } from "../helpers/silo-process.js";

const redis = useRedisServer();
let silos: SiloProcess[] = [];
let client: Client | undefined;

afterAll(async () => {
  await client?.close();
  await killSilos(silos);
});

describe("idempotent commands across a crash", () => {
  it("kill -9 of a silo during keyed deposits: retries with the same keys never apply a deposit twice", async () => {
    silos = await Promise.all([0, 1, 2].map(() => spawnSilo({ redisUrl: redis.url })));
    client = await Client.connect({ redis: redis.url, clusterKey, errors: bankErrors, callTimeoutMs: 20_000 });
    const gateway = client;
    await eventually(() => gateway.gateways.length === 3, "the client sees every silo");
    const ids = Array.from({ length: 100 }, (_, i) => `idem-${i}`);
    await Promise.all(ids.map((id) => gateway.get(Account, id).open(`owner-${id}`)));

    // Deposits without a transfer id: the account itself would apply a repeat twice, so only the
    // idempotency key stands between a retry and a double deposit.
    const deposit = (id: string, key: string) => gateway.get(Account, id, { idempotencyKey: key }).deposit(1, null);
    const acked = new Map<string, string>();
    const failed = new Map<string, string>();
    const failureCodes = new Set<string>();
    let stop = false;
    let sequence = 0;
    const workers = Array.from({ length: 24 }, async (_, w) => {
      while (!stop) {
        const id = ids[Math.floor(Math.random() * ids.length)] as string;
        const key = `w${w}-${sequence++}`;
        try {
          await deposit(id, key);
          acked.set(key, id);
        } catch (error) {
          failureCodes.add((error as { code?: string }).code ?? "?");
          failed.set(key, id);
        }
      }
    });
    await eventually(() => acked.size >= 100, "the deposits are under way");
    const victim = silos[0] as SiloProcess;
    victim.child.kill("SIGKILL");
    await victim.exited;
    // Survivors take over once the victim's lease (3 s) has expired: membership drops it, and
    // deposits on its accounts are acknowledged again.
    await eventually(
      () => !gateway.gateways.includes(`127.0.0.1:${victim.port}`),
      "the victim's lease expired",
      30_000,
    );
    const afterTakeover = acked.size;
    await eventually(() => acked.size >= afterTakeover + 200, "deposits are acknowledged after the takeover", 30_000);
    stop = true;
    await Promise.all(workers);
    expect(acked.size).toBeGreaterThan(300);

    // The caller retries whatever failed, with the same key, until it succeeds; and retries a
    // sample of what succeeded too (a reply lost on the way back looks exactly like that).
    for (const [key, id] of failed) {
      await eventually(
        () =>
          deposit(id, key).then(
            () => true,
            () => false,
          ),
        `retry of ${key} succeeds`,
      );
      acked.set(key, id);
    }
    const sample = [...acked].filter((_, i) => i % 7 === 0);
    await Promise.all(sample.map(([key, id]) => deposit(id, key)));

    const store = new RedisEventStore({ redis: redis.url });
    try {
      let deposits = 0;
      for (const id of ids) {
        const events = (await store.read(`Account/${id}`)).filter((e) => e.type === "MoneyDeposited");
        const keys = events.map((e) => e.metadata.idempotency?.key);
        expect(new Set(keys).size, `a key of ${id} applied twice`).toBe(keys.length);
        for (const key of keys) expect(acked.get(key as string), `${key} was never acknowledged`).toBe(id);
        expect(await gateway.get(Account, id).balance()).toBe(events.length);
        deposits += events.length;
      }
      // Every acknowledged deposit is there exactly once.
      expect(deposits).toBe(acked.size);
    } finally {
      await store.close();
    }
    // Whatever reached the caller was only "outcome unknown" (the client resends those itself until
    // its deadline) or a timeout; never a double deposit.
    expect([...failureCodes].filter((code) => code !== "CONNECTION_ERROR" && code !== "CALL_TIMEOUT")).toEqual([]);
  }, 120_000);
});
