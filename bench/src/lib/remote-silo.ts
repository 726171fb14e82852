import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { BenchCounter, Ledger } from "./actors.js";
import { startBenchSilo } from "./silo.js";
import { acquireTracing, type TracingMode } from "./tracing.js";

/** A shared secret for the benchmark clusters (the transport requires ≥ 16 bytes). */
export const BENCH_CLUSTER_KEY = "granary-bench-cluster-key-0123456789";

export interface RemoteSiloOptions {
  readonly redisUrl: string;
  /** One silo per cluster name, so a client's calls all reach this silo. */
  readonly clusterName: string;
  /** How the silo's process records spans (see TracingMode). */
  readonly tracing: TracingMode;
  /** Run the cart example's actors on this PostgreSQL instead of the bench actors on memory stores. */
  readonly cart?: { readonly postgresUrl: string; readonly namespace: string };
}

export interface RemoteSilo {
  readonly clusterName: string;
  /** Live activations on the silo now. */
  activations(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a cluster-mode silo hosting the bench actors (or the cart example's) in this process. */
export async function hostSilo(options: RemoteSiloOptions): Promise<RemoteSilo> {
  if (options.cart) {
    // Loaded only here: the cart example must be built, and no other scenario needs it.
    const { hostCartSilo } = await import("./cart-silo.js");
    const silo = await hostCartSilo({ ...options, ...options.cart, clusterKey: BENCH_CLUSTER_KEY });
    return { clusterName: options.clusterName, ...silo };
  }
  const tracing = options.tracing === "off" ? undefined : acquireTracing();
  if (tracing) tracing.tracing.mode = options.tracing;
  const silo = await startBenchSilo({
    actors: [BenchCounter, Ledger],
    store: new MemoryEventStore(),
    snapshots: new MemorySnapshotStore(),
    redis: options.redisUrl,
    clusterName: options.clusterName,
    clusterKey: BENCH_CLUSTER_KEY,
    port: 0,
  });
  return {
    clusterName: options.clusterName,
    activations: async () => silo.activationCount,
    stop: async () => {
      await silo.stop();
      await tracing?.release();
    },
  };
}

/**
 * Starts the silo in a child process (its own event loop, as a remote silo is); in this process
 * when running from TypeScript sources (the smoke test under vitest), which a child node cannot load.
 */
export async function startRemoteSilo(options: RemoteSiloOptions): Promise<RemoteSilo> {
  if (import.meta.url.endsWith(".ts")) return hostSilo(options);
  const script = fileURLToPath(new URL("./silo-process.js", import.meta.url));
  // BENCH_CHILD_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the silo too.
  const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, script], {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    env: {
      ...process.env,
      GRANARY_LOG_LEVEL: "silent",
      NODE_ENV: "production",
      BENCH_SILO_OPTIONS: JSON.stringify(options),
    },
  });
  await new Promise<void>((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("ready\n")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`silo process exited with ${code} before it was ready`)));
  });
  return {
    clusterName: options.clusterName,
    activations: () =>
      new Promise<number>((resolve) => {
        child.once("message", (message: { activations: number }) => resolve(message.activations));
        child.send({ type: "activations" });
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
