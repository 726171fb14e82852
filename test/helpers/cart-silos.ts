import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { clusterKey } from "./cluster-harness.js";

const script = fileURLToPath(new URL("../fixtures/cart-silo.mjs", import.meta.url));

export interface ProjectionState {
  readonly name: string;
  readonly state: string;
  readonly position: number;
  readonly epoch?: number;
}

export interface CartSilo {
  readonly child: ChildProcess;
  readonly siloId: string;
  readonly logs: string[];
  readonly exited: Promise<unknown>;
  readonly fenced: Promise<string>;
  /** The projections' status as this silo sees it. */
  status(): Promise<ProjectionState[]>;
  /** Whether this silo runs `projection` now. */
  runs(projection: string): Promise<boolean>;
}

/** Starts a cart silo (test/fixtures/cart-silo.mjs) and waits until it joined the cluster. */
export function spawnCartSilo(redisUrl: string, leaseMs = 3_000): Promise<CartSilo> {
  const child = spawn(process.execPath, [script], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: {
      ...process.env,
      GRANARY_REDIS_URL: redisUrl,
      GRANARY_CLUSTER_KEY: clusterKey,
      GRANARY_PORT: "0",
      GRANARY_LEASE_MS: String(leaseMs),
      GRANARY_LOG_LEVEL: "info",
    },
  });
  const logs: string[] = [];
  const collect = (chunk: Buffer): void => {
    logs.push(...chunk.toString().split("\n").filter(Boolean));
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  let onFenced: (reason: string) => void = () => {};
  const fenced = new Promise<string>((resolve) => {
    onFenced = resolve;
  });
  const waiters: ((status: ProjectionState[]) => void)[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cart silo did not start in 20 s:\n${logs.join("\n")}`)), 20_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cart silo exited with ${code} before it was ready:\n${logs.join("\n")}`));
    });
    child.on("message", (message: { type: string; siloId: string; status: ProjectionState[]; reason: string }) => {
      if (message.type === "status") waiters.shift()?.(message.status);
      else if (message.type === "fenced") onFenced(message.reason);
      else if (message.type === "ready") {
        clearTimeout(timer);
        const status = (): Promise<ProjectionState[]> =>
          new Promise((done) => {
            waiters.push(done);
            child.send({ type: "status" });
          });
        resolve({
          child,
          siloId: message.siloId,
          logs,
          exited,
          fenced,
          status,
          async runs(projection) {
            const state = (await status()).find((s) => s.name === projection)?.state;
            return state === "live" || state === "catching-up" || state === "starting";
          },
        });
      }
    });
  });
}
