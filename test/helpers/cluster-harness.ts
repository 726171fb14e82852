import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startClusterSilo } from "./silo-process.js";

const siloScript = fileURLToPath(new URL("../fixtures/bank-silo.mjs", import.meta.url));

export { clusterKey } from "./silo-process.js";

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
export async function spawnSilo(options: SpawnSiloOptions): Promise<SiloProcess> {
  const { silo, ready } = await startClusterSilo<{ siloId: string; port: number }>(siloScript, {
    ...options,
    what: "silo",
    startTimeoutMs: 60_000,
  });
  const { child, logs, exited, fenced } = silo;
  return {
    child,
    siloId: ready.siloId,
    port: ready.port,
    logs,
    exited,
    fenced,
    activeActors: async () => (await silo.ask<{ active: string[] }>("active")).active,
  };
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
