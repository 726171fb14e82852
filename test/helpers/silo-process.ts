import { type ChildProcess, spawn } from "node:child_process";

export const clusterKey = "multi-process-test-cluster-key-0123456789";

/** A fixture silo (test/fixtures/*-silo.mjs) running as a child process, joined to a Redis cluster. */
export interface ClusterSiloChild {
  readonly child: ChildProcess;
  /** Every line the silo logged (pino JSON). */
  readonly logs: string[];
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Resolves when the silo reports it fenced itself. */
  readonly fenced: Promise<string>;
  /** Sends `{ type }` over IPC and resolves with the silo's next reply of the same type. */
  ask<T>(type: string): Promise<T>;
}

export interface ClusterSiloOptions {
  readonly redisUrl: string;
  /** @default 3_000 */
  readonly leaseMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** How the start-up errors name the silo ("cart silo"). */
  readonly what: string;
  readonly startTimeoutMs: number;
}

/**
 * Starts `script` with the cluster's GRANARY_* variables and waits for its `{ type: "ready" }`
 * message, which it returns beside the child; rejects with the silo's logs if it exits or takes
 * longer than `startTimeoutMs` first.
 */
export function startClusterSilo<Ready>(
  script: string,
  options: ClusterSiloOptions,
): Promise<{ silo: ClusterSiloChild; ready: Ready }> {
  const child = spawn(process.execPath, [script], {
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
  // Replies waiting for an answer, per message type, in the order they were asked.
  const waiters = new Map<string, ((message: unknown) => void)[]>();
  const silo: ClusterSiloChild = {
    child,
    logs,
    exited,
    fenced,
    ask<T>(type: string) {
      return new Promise<T>((done) => {
        waiters.set(type, [...(waiters.get(type) ?? []), done as (message: unknown) => void]);
        child.send({ type });
      });
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`${options.what} did not start in ${options.startTimeoutMs / 1_000} s:\n${logs.join("\n")}`)),
      options.startTimeoutMs,
    );
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.what} exited with ${code} before it was ready:\n${logs.join("\n")}`));
    });
    child.on("message", (message: { type: string; reason: string }) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve({ silo, ready: message as Ready });
      } else if (message.type === "fenced") {
        resolveFenced(message.reason);
      } else {
        waiters.get(message.type)?.shift()?.(message);
      }
    });
  });
}

/** Kills every silo (SIGKILL) and waits until all have exited, as after a test. */
export async function killSilos(
  silos: readonly { readonly child: ChildProcess; readonly exited: Promise<unknown> }[],
): Promise<void> {
  for (const silo of silos) silo.child.kill("SIGKILL");
  await Promise.allSettled(silos.map((s) => s.exited));
}
