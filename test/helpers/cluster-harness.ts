import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const siloScript = fileURLToPath(new URL("../fixtures/bank-silo.mjs", import.meta.url));
export const clusterKey = "multi-process-test-cluster-key-0123456789";

export interface SiloProcess {
  readonly child: ChildProcess;
  readonly siloId: string;
  readonly port: number;
  /** Every line the silo logged (pino JSON). */
  readonly logs: string[];
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Actors active on this silo right now. */
  activeActors(): Promise<string[]>;
  /** Resolves when the silo reports it fenced itself. */
  readonly fenced: Promise<string>;
}

export interface SpawnSiloOptions {
  readonly redisUrl: string;
  readonly leaseMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts a bank silo as a child process and waits until it has joined the cluster. */
export function spawnSilo(options: SpawnSiloOptions): Promise<SiloProcess> {
  const child = spawn(process.execPath, [siloScript], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: {
      ...process.env,
      GRANARY_REDIS_URL: options.redisUrl,
      GRANARY_CLUSTER_KEY: clusterKey,
      GRANARY_PORT: "0",
      GRANARY_LEASE_MS: String(options.leaseMs ?? 3_000),
      GRANARY_LOG_LEVEL: "info",
      ...options.env,
    },
  });
  const logs: string[] = [];
  const collect = (chunk: Buffer): void => {
    logs.push(...chunk.toString().split("\n").filter(Boolean));
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  let resolveFenced: (reason: string) => void = () => {};
  const fenced = new Promise<string>((resolve) => {
    resolveFenced = resolve;
  });
  const waiters: ((active: string[]) => void)[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`silo did not start in 60 s:\n${logs.join("\n")}`)), 60_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`silo exited with ${code} before it was ready:\n${logs.join("\n")}`));
    });
    child.on("message", (message: { type: string; siloId: string; port: number; active: string[]; reason: string }) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve({
          child,
          siloId: message.siloId,
          port: message.port,
          logs,
          exited,
          fenced,
          activeActors() {
            return new Promise((done) => {
              waiters.push(done);
              child.send({ type: "active" });
            });
          },
        });
      } else if (message.type === "active") {
        waiters.shift()?.(message.active);
      } else if (message.type === "fenced") {
        resolveFenced(message.reason);
      }
    });
  });
}

export { eventually } from "@granary/testing";

/**
 * Awaits `promise`, failing with a message naming `what` after `timeoutMs` instead of hanging
 * until the test's own timeout (which says nothing about what was awaited).
 */
export async function within<T>(promise: Promise<T> | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting until ${what} (${timeoutMs} ms)`)), timeoutMs);
  });
  try {
    if (promise === undefined) throw new Error(`nothing to wait for: ${what}`);
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
