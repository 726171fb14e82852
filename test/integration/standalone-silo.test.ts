import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@granary/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { Account, bankErrors } from "../../examples/bank/src/index.js";
import { within } from "../helpers/cluster-harness.js";

const script = fileURLToPath(new URL("../fixtures/standalone-silo.mjs", import.meta.url));
const clusterKey = "standalone-silo-test-key-0123456789";

interface Started {
  readonly child: ChildProcess;
  readonly port: number | null;
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
const clients: Client[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "granary-standalone-"));
  dirs.push(dir);
  return dir;
}

/** Starts the bare silo script; resolves once it reported ready (or exited first). */
function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [script], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, GRANARY_REDIS_URL: "", GRANARY_LOG_LEVEL: "info", ...env },
  });
  children.push(child);
  const output: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    child.once("message", (message: { port: number | null }) => resolve({ child, port: message.port, output, exited }));
    void exited.then(() => reject(new Error(`silo exited before it was ready:\n${output.join("")}`)));
  });
}

describe("a standalone silo process (no Redis)", () => {
  it("serves clients over TCP with the cluster key, keeps running, and drains on SIGTERM; its SQLite data outlives it", async () => {
    const dir = await dataDir();
    const env = { GRANARY_DATA_DIR: dir, GRANARY_PORT: "0", GRANARY_CLUSTER_KEY: clusterKey };
    const silo = await start(env);
    expect(silo.port).toBeGreaterThan(0);
    const client = await Client.connect({ gateways: [`127.0.0.1:${silo.port}`], clusterKey, errors: bankErrors });
    clients.push(client);
    await client.get(Account, "web-1").open("alice");
    expect(await client.get(Account, "web-1").deposit(25)).toBe(25);
    // A wrong key is refused.
    const stranger = await Client.connect({
      gateways: [`127.0.0.1:${silo.port}`],
      clusterKey: "not-the-key-0123456789abcdef",
    });
    clients.push(stranger);
    await expect(stranger.get(Account, "web-1").balance()).rejects.toMatchObject({ code: "UNAUTHORIZED" });

    silo.child.kill("SIGTERM");
    expect(await within(silo.exited, "the silo exited after SIGTERM", 30_000)).toEqual({ code: 0, signal: null });
    expect(silo.output.join("")).toContain("silo stopped");

    const again = await start(env);
    const client2 = await Client.connect({ gateways: [`127.0.0.1:${again.port}`], clusterKey, errors: bankErrors });
    clients.push(client2);
    expect(await client2.get(Account, "web-1").balance()).toBe(25);
  }, 90_000);

  it("a bare script drains on SIGTERM and SIGINT and exits 0, unless handleSignals is false", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const silo = await start({
        GRANARY_DATA_DIR: await dataDir(),
        GRANARY_PORT: "0",
        GRANARY_CLUSTER_KEY: clusterKey,
      });
      silo.child.kill(signal);
      expect(await within(silo.exited, `the silo exited after ${signal}`, 30_000)).toEqual({ code: 0, signal: null });
      expect(silo.output.join("")).toContain(`received ${signal}: draining before exit`);
      expect(silo.output.join("")).toContain("silo stopped");
    }
    const unhandled = await start({
      GRANARY_DATA_DIR: await dataDir(),
      GRANARY_PORT: "0",
      GRANARY_CLUSTER_KEY: clusterKey,
      TEST_HANDLE_SIGNALS: "false",
    });
    unhandled.child.kill("SIGTERM");
    expect(await within(unhandled.exited, "the silo without signal handling died of SIGTERM", 30_000)).toEqual({
      code: null,
      signal: "SIGTERM",
    });
  }, 90_000);
});
