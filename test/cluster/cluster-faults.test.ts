import { connect } from "node:net";
import { RedisEventStore } from "@granary/redis";
import { Client } from "@granary/runtime";
import { type RedisServer, startRedisServer } from "@granary/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Account, bankErrors } from "../../examples/bank/src/index.js";
import { clusterKey, eventually, type SiloProcess, spawnSilo, within } from "../helpers/cluster-harness.js";

let redis: RedisServer | undefined;
let silos: SiloProcess[] = [];
let clients: Client[] = [];

afterEach(async () => {
  // Silos first: a client's close waits for its calls, and calls to a frozen silo never end while it
  // is stopped. Left alive after a failed test, a silo would keep this worker from ever exiting.
  for (const silo of silos) {
    silo.child.kill("SIGCONT");
    silo.child.kill("SIGKILL");
  }
  await Promise.allSettled(silos.map((s) => s.exited));
  await Promise.allSettled(clients.map((c) => c.close()));
  await redis?.stop();
  silos = [];
  clients = [];
  redis = undefined;
});

async function connectClient(options: { gateways?: string[]; key?: string; timeoutMs?: number } = {}): Promise<Client> {
  const client = await Client.connect({
    ...(options.gateways ? { gateways: options.gateways } : { redis: (redis as RedisServer).url }),
    clusterKey: options.key ?? clusterKey,
    errors: bankErrors,
    callTimeoutMs: options.timeoutMs ?? 20_000,
  });
  clients.push(client);
  return client;
}

// Multi-process tests on a 2-core machine: the timeout is a guard against a hang, not a budget.
describe("cluster faults", { timeout: 180_000 }, () => {
  it("a silo frozen past its lease (SIGSTOP) writes nothing after its actors moved, and fences itself on SIGCONT", async () => {
    redis = await startRedisServer();
    const env = { GRANARY_TEST_EXIT_ON_FENCE: "1" };
    silos = [
      await spawnSilo({ redisUrl: redis.url, leaseMs: 2_000, env }),
      await spawnSilo({ redisUrl: redis.url, leaseMs: 2_000, env }),
    ];
    const [victim, survivor] = silos as [SiloProcess, SiloProcess];
    const client = await connectClient();
    await eventually(() => client.gateways.length === 2, "the client sees both silos");
    const ids = Array.from({ length: 40 }, (_, i) => `acc-${i}`);
    await Promise.all(ids.map((id) => client.get(Account, id).open(id)));
    const onVictim = (await victim.activeActors()).map((key) => key.slice("Account/".length));
    expect(onVictim.length).toBeGreaterThan(0);

    victim.child.kill("SIGSTOP");
    // Calls sent straight to the frozen silo wait in its socket until it wakes up.
    const zombieClient = await connectClient({ gateways: [`127.0.0.1:${victim.port}`], timeoutMs: 8_000 });
    const zombieCalls = onVictim.map((id) =>
      zombieClient
        .get(Account, id)
        .deposit(1_000, `zombie-${id}`)
        .then(
          () => "acked",
          (e: { code?: string }) => e.code ?? "error",
        ),
    );
    // After the lease (2 s) the victim drops out of membership and the survivor takes its actors over.
    const prober = await connectClient({ timeoutMs: 3_000 });
    const victimAddress = `127.0.0.1:${victim.port}`;
    await eventually(() => !prober.gateways.includes(victimAddress), "the victim's lease expired");
    await eventually(async () => {
      const results = await Promise.allSettled(onVictim.map((id) => prober.get(Account, id).deposit(1, `moved-${id}`)));
      return results.every((r) => r.status === "fulfilled");
    }, "the victim's actors answer from the survivor");
    expect((await survivor.activeActors()).length).toBe(ids.length);

    victim.child.kill("SIGCONT");
    expect(await within(victim.fenced, "the victim fenced itself after SIGCONT")).toMatch(/lease|removed/);
    expect((await Promise.all(zombieCalls)).filter((outcome) => outcome === "acked")).toEqual([]);
    const store = new RedisEventStore({ redis: redis.url });
    try {
      for (const id of onVictim) {
        const events = await store.read(`Account/${id}`);
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        expect(events.some((e) => String(e.data.transferId).startsWith("zombie-"))).toBe(false);
        expect(events.some((e) => e.data.transferId === `moved-${id}`)).toBe(true);
      }
    } finally {
      await store.close();
    }
  });

  it("Redis unreachable for a while: calls fail fast with clear errors, and the cluster recovers by itself", async () => {
    redis = await startRedisServer();
    silos = [await spawnSilo({ redisUrl: redis.url, leaseMs: 5_000 })];
    const client = await connectClient({ timeoutMs: 4_000 });
    await client.get(Account, "a").open("A");
    await client.get(Account, "a").deposit(1, "before");

    await redis.stop({ keepData: true });
    const started = Date.now();
    const error = await client
      .get(Account, "a")
      .deposit(1, "during")
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(error).toMatchObject({ code: expect.stringMatching(/CONNECTION_ERROR|NO_SILO_AVAILABLE/) });
    expect((error as Error).message).toMatch(/redis|Redis|did not complete/);

    await redis.restart();
    await eventually(async () => {
      try {
        await client.get(Account, "a").deposit(1, "after");
        return true;
      } catch {
        return false;
      }
    }, "calls succeed again after Redis returned").catch((error) => {
      console.log(silos[0]?.logs.slice(-30).join("\n"));
      throw error;
    });
    expect(await client.get(Account, "a").balance()).toBe(2);
    expect(silos[0]?.child.exitCode).toBeNull();
  });

  it("a wrong cluster key, a garbage frame and an oversized frame are refused and logged; the silo keeps serving", async () => {
    redis = await startRedisServer();
    silos = [await spawnSilo({ redisUrl: redis.url })];
    const silo = silos[0] as SiloProcess;
    const gateway = `127.0.0.1:${silo.port}`;

    const intruder = await connectClient({ gateways: [gateway], key: "this-is-not-the-cluster-key!" });
    await expect(intruder.get(Account, "x").balance()).rejects.toMatchObject({ code: "UNAUTHORIZED" });

    const sendRaw = (bytes: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = connect(silo.port, "127.0.0.1", () => socket.write(bytes));
        socket.on("close", () => resolve());
        socket.on("error", () => resolve());
        setTimeout(() => socket.destroy(), 3_000);
      });
    await sendRaw(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const oversized = Buffer.alloc(4);
    oversized.writeUInt32BE(0x7fff_ffff);
    await sendRaw(oversized);

    const friend = await connectClient({ gateways: [gateway] });
    await friend.get(Account, "ok").open("ok");
    expect(await friend.get(Account, "ok").deposit(5)).toBe(5);
    const warnings = silo.logs.filter((line) => line.includes('"level":40')).join("\n");
    expect(warnings).toMatch(/authentication failed/);
    expect(warnings.split("\n").length).toBeGreaterThanOrEqual(3);
  });
});
