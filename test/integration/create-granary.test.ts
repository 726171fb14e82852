import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const workspace = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(workspace, "packages/create-granary/dist/bin.js");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Spawns a long-running program of the generated project and collects its output. */
function start(cwd: string, command: string, args: string[], env: Record<string, string>) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

describe("create-granary", () => {
  let root: string;
  let project: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "create-granary-"));
    project = join(root, "my-app");
    // Wired to this workspace's built packages: nothing is published yet.
    await run(process.execPath, [bin, project, "--cluster", "--granary-workspace", workspace]);
    await run("pnpm", ["install", "--prefer-offline", "--reporter=silent"], { cwd: project, timeout: 240_000 });
  }, 300_000);

  afterAll(async () => {
    await Promise.all(children.map(stop));
    rmSync(root, { recursive: true, force: true });
  });

  it("writes a project whose README names the two commands that work", () => {
    const readme = readFileSync(join(project, "README.md"), "utf8");
    expect(readme).toContain("pnpm install && pnpm dev");
    expect(readme).toContain("pnpm test");
  });

  it("the generated project's own test passes (type-check and the ActorSpec specification)", async () => {
    const { stdout } = await run("pnpm", ["test"], { cwd: project, timeout: 120_000 });
    expect(stdout).toMatch(/2 passed/);
  }, 150_000);

  it("pnpm dev runs a silo on embedded SQLite and the state survives a restart", async () => {
    const first = await run("pnpm", ["--silent", "dev"], { cwd: project, timeout: 120_000 });
    expect(first.stdout).toContain("acc-1 balance: 10");
    // Already built: a second process on the same data dir rebuilds the account from its events.
    const second = await run(process.execPath, ["dist/dev.js"], { cwd: project, timeout: 120_000 });
    expect(second.stdout).toContain("acc-1 balance: 20");
  }, 250_000);

  it("the --cluster variant starts its own Redis, a silo and a client that calls through it", async () => {
    const redisPort = await freePort();
    const redis = start(project, "bash", ["scripts/redis.sh"], { REDIS_PORT: String(redisPort) });
    children.push(redis.child);
    await expect.poll(() => redis.output(), { timeout: 20_000 }).toContain("Ready to accept connections");
    const env = {
      GRANARY_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      GRANARY_CLUSTER_KEY: "create-granary-test-key-0123456789abcdef",
      GRANARY_PORT: "0",
      // "silo started" is an info line: never inherit a quieter level from the test process.
      GRANARY_LOG_LEVEL: "info",
    };
    const silo = start(project, process.execPath, ["dist/silo.js"], env);
    children.push(silo.child);
    await expect.poll(() => silo.output(), { timeout: 60_000 }).toContain("silo started");
    const { stdout } = await run(process.execPath, ["dist/client.js", "acc-7"], {
      cwd: project,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    expect(stdout).toContain("balance: 5");
    await stop(silo.child);
    expect(silo.child.exitCode).toBe(0);
  }, 120_000);
});
