import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DocumentProjection } from "@granary/core";
import { startClusterSilo } from "./silo-process.js";

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
  readonly exited: Promise<number | string>;
  readonly fenced: Promise<string>;
  /** The projections' status as this silo sees it. */
  status(): Promise<ProjectionState[]>;
  /** Whether this silo runs `projection` now. */
  runs(projection: string): Promise<boolean>;
}

/** Starts a cart silo (test/fixtures/cart-silo.mjs) and waits until it joined the cluster. */
export async function spawnCartSilo(redisUrl: string, leaseMs = 3_000): Promise<CartSilo> {
  const { silo, ready } = await startClusterSilo<{ siloId: string }>(script, {
    redisUrl,
    leaseMs,
    what: "cart silo",
    startTimeoutMs: 20_000,
  });
  const status = async (): Promise<ProjectionState[]> =>
    (await silo.ask<{ status: ProjectionState[] }>("status")).status;
  const { child, logs, exited, fenced } = silo;
  return {
    child,
    siloId: ready.siloId,
    logs,
    exited,
    fenced,
    status,
    async runs(projection) {
      const state = (await status()).find((s) => s.name === projection)?.state;
      return state === "live" || state === "catching-up" || state === "starting";
    },
  };
}

/** The fixture's per-cart log, declared in the tests only to query it (same name and version). */
export class CartLogQuery extends DocumentProjection<{ positions: number[] }> {
  static readonly projection = "cart-log";
  static readonly events = ["ItemAdded"];
  key(): undefined {
    return undefined;
  }
  initialDocument() {
    return { positions: [] };
  }
  apply(document: { positions: number[] }) {
    return document;
  }
}
