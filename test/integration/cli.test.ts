import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@granary/runtime";
import { type RedisServer, startRedisServer } from "@granary/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Account, bankErrors } from "../../examples/bank/src/index.js";
import { clusterKey, type SiloProcess, spawnSilo } from "../helpers/cluster-harness.js";
import { killSilos } from "../helpers/silo-process.js";

const bin = fileURLToPath(new URL("../../packages/cli/dist/bin.js", import.meta.url));
const actorsModule = fileURLToPath(new URL("../fixtures/counter-actors.mjs", import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function granary(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, GRANARY_LOG_LEVEL: "warn", GRANARY_REDIS_URL: "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe("granary CLI on a standalone data dir", { timeout: 120_000 }, () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "granary-cli-"));
    // In a child process: the fixture's classes and the built runtime must share one @granary/core.
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { seedCounter } from ${JSON.stringify(actorsModule)}; await seedCounter(${JSON.stringify(dataDir)});`,
        ],
        { env: { ...process.env, GRANARY_LOG_LEVEL: "warn" } },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("history --json prints the JSON array of the actor's recorded events with their metadata", async () => {
    const run = await granary(["history", "Counter", "c1", "--data-dir", dataDir, "--json"]);
    expect(run.code).toBe(0);
    const events = JSON.parse(run.stdout) as {
      version: number;
      type: string;
      data: unknown;
      metadata: { userId?: string };
    }[];
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    expect(events[2]).toMatchObject({ type: "Added", data: { by: 3 }, metadata: { userId: "ada" } });
  });

  it("history prints a readable table, and --from/--to and --version narrow it", async () => {
    const table = await granary(["history", "Counter", "c1", "--data-dir", dataDir, "--from", "2", "--to", "3"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^VERSION\s+TYPE\s+TIME\s+USER/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["2", "3"]);
    const one = await granary(["history", "Counter", "c1", "--data-dir", dataDir, "--version", "4", "--json"]);
    expect((JSON.parse(one.stdout) as { data: unknown }[]).map((e) => e.data)).toEqual([{ by: 4 }]);
  });

  it("an actor with no events says so, and exits 0", async () => {
    const run = await granary(["history", "Counter", "nobody", "--data-dir", dataDir]);
    expect(run).toMatchObject({ code: 0, stdout: "no events recorded for Counter/nobody\n" });
  });

  it("errors are one clear line and a non-zero exit code", async () => {
    const missing = await granary(["history", "Counter", "c1", "--data-dir", join(dataDir, "nope")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^granary: no Granary store in .*check --data-dir\n$/);
    const nowhere = await granary(["silos"]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr.trim().split("\n")).toHaveLength(1);
    expect(nowhere.stderr).toContain("--data-dir");
    const usage = await granary(["history", "Counter"]);
    expect(usage.code).toBe(2);
    const badVersion = await granary(["history", "Counter", "c1", "--data-dir", dataDir, "--version", "zero"]);
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toContain("expected an integer >= 1");
  });

  it("state --at rebuilds the state at a version (with the actor classes from --actors)", async () => {
    const run = await granary([
      "state",
      "Counter",
      "c1",
      "--at",
      "2",
      "--data-dir",
      dataDir,
      "--actors",
      actorsModule,
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      actor: "Counter/c1",
      version: 2,
      state: { total: 3, history: [1, 2] },
    });
    const latest = await granary(["state", "Counter", "c1", "--data-dir", dataDir, "--actors", actorsModule]);
    expect(latest.stdout).toMatch(/^version:\s+5$/m);
  });

  it("purge asks to type the id, and anything else changes nothing", async () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        "purge",
        "Counter",
        "c1",
        "--reason",
        "test",
        "--requested-by",
        "tester",
        "--data-dir",
        dataDir,
        "--actors",
        actorsModule,
      ],
      {
        env: { ...process.env, GRANARY_LOG_LEVEL: "warn" },
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.end("not-the-id\n");
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(1);
    expect(stderr).toContain("purge cancelled: nothing was changed");
    const still = await granary(["history", "Counter", "c1", "--data-dir", dataDir, "--json"]);
    expect(JSON.parse(still.stdout)).toHaveLength(5);
  });

  it("with --actors it hosts the actors in-process and lists what it activated", async () => {
    const run = await granary(["actors", "--data-dir", dataDir, "--actors", actorsModule, "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([]);
  });
});

describe("granary CLI against a cluster (redis-server + 2 silo processes)", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let silos: SiloProcess[] = [];
  let client: Client;

  beforeAll(async () => {
    redis = await startRedisServer();
    silos = await Promise.all([spawnSilo({ redisUrl: redis.url }), spawnSilo({ redisUrl: redis.url })]);
    client = await Client.connect({ redis: redis.url, clusterKey, errors: bankErrors });
    for (let i = 0; i < 6; i++) {
      const account = client.get(Account, `acc-${i}`, { userId: "teller" });
      await account.open(`owner-${i}`);
      await account.deposit(10 + i);
    }
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await killSilos(silos);
    await redis?.stop();
  });

  const env = () => ({ GRANARY_REDIS_URL: redis.url, GRANARY_CLUSTER_KEY: clusterKey });

  it("silos lists both silos, serving, with their activations", async () => {
    const run = await granary(["silos", "--json"], env());
    expect(run.code).toBe(0);
    const reports = JSON.parse(run.stdout) as { info: { siloId: string; status: string; activations: number } }[];
    expect(reports.map((r) => r.info.siloId).sort()).toEqual(silos.map((s) => s.siloId).sort());
    expect(reports.every((r) => r.info.status === "serving")).toBe(true);
    expect(reports.reduce((sum, r) => sum + r.info.activations, 0)).toBeGreaterThanOrEqual(6);
    const table = await granary(["silos"], env());
    expect(table.stdout.trim().split("\n")).toHaveLength(3);
  });

  it("actors and actor show which silo holds an actor, its epoch, version and state", async () => {
    const list = JSON.parse((await granary(["actors", "Account", "--json"], env())).stdout) as {
      id: string;
      siloId: string;
    }[];
    expect(list.map((a) => a.id).sort()).toEqual(["acc-0", "acc-1", "acc-2", "acc-3", "acc-4", "acc-5"]);
    const owner = (
      await Promise.all(
        silos.map(async (s) => ((await s.activeActors()).includes("Account/acc-3") ? s.siloId : undefined)),
      )
    ).find(Boolean);
    const run = await granary(["actor", "Account", "acc-3", "--json"], env());
    expect(run.code).toBe(0);
    const view = JSON.parse(run.stdout) as { silo: string; version: number; epoch: number; state: { balance: number } };
    expect(view.silo).toBe(owner);
    expect(view.version).toBe(2);
    expect(view.epoch).toBeGreaterThan(0);
    expect(view.state.balance).toBe(13);
  });

  it("history reads an actor's events through any silo", async () => {
    const run = await granary(["history", "Account", "acc-2", "--json"], env());
    expect(run.code).toBe(0);
    const events = JSON.parse(run.stdout) as { type: string; metadata: { userId?: string } }[];
    expect(events.map((e) => e.type)).toEqual(["AccountOpened", "MoneyDeposited"]);
    expect(events[1]?.metadata.userId).toBe("teller");
  });

  it("tail prints live events committed on any silo, and --count stops it", async () => {
    const child = spawn(process.execPath, [bin, "tail", "default.Account.*", "--count", "2"], {
      env: { ...process.env, GRANARY_LOG_LEVEL: "warn", ...env() },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await expect.poll(() => stderr, { timeout: 60_000 }).toContain("tailing default.Account.*");
    await client.get(Account, "acc-4").deposit(1);
    await client.get(Account, "acc-5").deposit(2);
    expect(await exited).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/default\.Account\.MoneyDeposited {2}Account\/acc-4 v3/);
    expect(lines[1]).toContain("Account/acc-5");
  });

  it("reminders lists an actor's durable reminders, as the silos report them", async () => {
    await client.get(Account, "acc-1").placeHold("h1", 5, 3_600_000);
    const run = await granary(["reminders", "Account", "acc-1", "--json"], env());
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([expect.objectContaining({ name: "hold:h1", missed: "fire-once" })]);
    const table = await granary(["reminders", "Account", "acc-1"], env());
    expect(table.stdout).toMatch(/^NAME\s+DUE\s+PERIOD MS\s+MISSED\nhold:h1\s+\S+\s+—\s+fire-once\n$/);
  });

  it("projections reports none for silos that run none", async () => {
    const run = await granary(["projections"], env());
    expect(run).toMatchObject({ code: 0, stdout: "no projections registered\n" });
  });

  it("purge --yes forgets an actor on whichever silo holds it and prints the tombstone", async () => {
    const run = await granary(
      [
        "purge",
        "Account",
        "acc-0",
        "--reason",
        "GDPR request #7",
        "--requested-by",
        "dpo@example.com",
        "--yes",
        "--json",
      ],
      env(),
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      purged: "Account/acc-0",
      reason: "GDPR request #7",
      requestedBy: "dpo@example.com",
    });
    const after = await granary(["history", "Account", "acc-0"], env());
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^granary: STREAM_PURGED: /);
  });

  it("an actor that is not active is a one-line error naming what to do", async () => {
    const run = await granary(["actor", "Account", "never-called"], env());
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "granary: Account/never-called is not active on any silo (see its events with: granary history Account never-called)\n",
    );
  });
});
