import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The rivetkit side of peer-rivetkit: a registry hosting a counter actor in a child Node process.
 * rivetkit 2.3 has no in-memory driver: actors run in an "envoy" (the registry, in Node through
 * its N-API core) that registers with the Rivet Engine, and every client call goes client →
 * engine (its gateway) → envoy → actor. `startEngine: true` makes the registry spawn the engine
 * binary shipped in @rivetkit/engine-cli, so nothing external is needed; its files go under
 * `$HOME/.rivetkit`, and HOME is a scratch folder in /dev/shm (tmpfs) when there is one: on this
 * machine's shared disk the engine's storage stalled and actor creations timed out (15 s).
 *
 * The source is written to that folder (as the echo server is), so the host runs the same from
 * the compiled bench and from the TypeScript sources.
 */
const HOST_SOURCE = (benchPackageJson: string) => `
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
const { actor, setup } = createRequire(${JSON.stringify(benchPackageJson)})("rivetkit");
// Like Granary's BenchCounter: a plain in-memory count (vars are rivetkit's ephemeral state).
// Awake for the whole run, as Granary's activations are (no sleep between rounds).
const counter = actor({
  createVars: () => ({ count: 0 }),
  actions: { increment: (c) => ++c.vars.count },
  options: { sleepTimeout: 3_600_000 },
});
const registry = setup({
  use: { counter },
  startEngine: true,
  enginePort: Number(process.env.BENCH_RIVET_ENGINE_PORT),
  startServices: false,
  noWelcome: true,
  shutdown: { disableSignalHandlers: true, gracePeriodMs: 1000 },
});
await registry.startAndWait();
const { pid } = JSON.parse(readFileSync(join(homedir(), ".rivetkit", "var", "engine", "runtime.json"), "utf8"));
process.stdout.write(JSON.stringify({ enginePid: pid }) + "\\n");
let stopping = false;
// The engine outlives the registry: stop it here too, so a killed bench leaves no engine behind.
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await registry.shutdown();
  try {
    process.kill(pid, "SIGTERM");
  } catch {}
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
`;

export interface RivetkitHost {
  /** Where clients connect: the engine's gateway. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 120_000;

/** Starts the registry (and through it the engine); its script goes in `dir`. */
export async function startRivetkitHost(dir: string): Promise<RivetkitHost> {
  const script = join(dir, "rivetkit-host.mjs");
  const home = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/granary-bench-rivetkit-") : dir;
  writeFileSync(script, HOST_SOURCE(fileURLToPath(new URL("../../package.json", import.meta.url))));
  const port = await freeEnginePort();
  const child: ChildProcess = spawn(process.execPath, [script], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: {
      ...process.env,
      HOME: home,
      BENCH_RIVET_ENGINE_PORT: String(port),
      RIVET_LOG_LEVEL: "error",
      // Only self-hosted deployments version their envoys; unset, the registry logs an error about it.
      RIVET_ENVOY_VERSION: "1",
    },
  });
  const output: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  let enginePid: number | undefined;
  try {
    enginePid = await new Promise<number>((resolve, reject) => {
      let text = "";
      const timer = setTimeout(
        () => reject(new Error(`rivetkit did not start in ${STARTUP_TIMEOUT_MS} ms`)),
        STARTUP_TIMEOUT_MS,
      );
      child.stdout?.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        const line = text.split("\n").find((l) => l.startsWith("{"));
        if (line) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { enginePid: number }).enginePid);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`rivetkit host exited with ${code} before it was ready:\n${output.join("")}`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    const started = enginePidIn(home);
    if (started !== undefined) await stopProcess(started);
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      // The engine runs in a process group of its own and outlives the registry: stop it by its id.
      await stopProcess(enginePid as number);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The engine's pid from the runtime file it writes, when it got that far. */
function enginePidIn(home: string): number | undefined {
  try {
    const runtime = readFileSync(join(home, ".rivetkit", "var", "engine", "runtime.json"), "utf8");
    return (JSON.parse(runtime) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

async function stopProcess(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; alive() && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, "SIGKILL");
}

/** The engine listens on its port, the port + 1 (peer API) and the port + 10 (metrics). */
async function freeEnginePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all([port, port + 1, port + 10].map(isFree));
    if (free.every(Boolean)) return port;
  }
  throw new Error("no free ports for the rivet engine");
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
