import { startRedisServer } from "@granary/testing";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { type RemoteSilo, startRemoteSilo } from "../lib/remote-silo.js";
import { minShareOfBaseline } from "../lib/targets.js";
import type { Row, Scenario, ScenarioResult } from "../lib/types.js";
import { granaryClientCase } from "./cross-silo.js";

const NAME = "scale-out";
const TITLE = "1 → 2 → 3 silos (cluster mode, one client)";
const SIZES = [1, 2, 3] as const;

interface Context {
  readonly redisUrl: string;
}

const clusterOf = (silos: number) => `bench-scale-${silos}`;

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const inFlight = Math.max(...config.inFlight);
  return SIZES.map(
    (n): CaseSpec => ({
      name: `${n} silo${n > 1 ? "s" : ""}, ${inFlight} in flight`,
      role: n === 1 ? "baseline" : "granary",
      ...(n === 1 ? {} : { baseline: `1 silo, ${inFlight} in flight`, targets: [minShareOfBaseline(1, "1 silo")] }),
      setup: granaryClientCase(config, context.redisUrl, clusterOf(n), inFlight, "off"),
    }),
  );
}

/**
 * The same client load on clusters of 1, 2 and 3 silo processes (one Redis). Throughput must not
 * drop as silos join and activations must spread. On this 2-core machine the silos, Redis and the
 * client compete for the same cores, so more silos cannot add throughput here.
 */
export const scaleOut: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const redis = await startRedisServer({ appendonly: true });
    const clusters = new Map<number, RemoteSilo[]>();
    try {
      for (const n of SIZES) {
        const silos: RemoteSilo[] = [];
        for (let i = 0; i < n; i++) {
          silos.push(await startRemoteSilo({ redisUrl: redis.url, clusterName: clusterOf(n), tracing: "off" }));
        }
        clusters.set(n, silos);
      }
      const context: Context = { redisUrl: redis.url };
      const rows: Row[] = await runCases(NAME, cases(config, context), config, context);
      const spread: Record<string, number[]> = {};
      for (const [n, silos] of clusters) spread[`${n}`] = await Promise.all(silos.map((s) => s.activations()));
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: rows.map((row, i) => ({
          ...row,
          extra: { ...row.extra, activationsPerSilo: (spread[`${SIZES[i]}`] ?? []).join(" / ") },
        })),
        settings: {
          actors: config.storeActors,
          inFlight: Math.max(...config.inFlight),
          activationsPerSilo: spread,
          cores: "2: silos, Redis and the client share them",
        },
        notes: [
          `Activations per silo: ${SIZES.map((n) => `${n} silo(s): ${(spread[`${n}`] ?? []).join(" / ")}`).join("; ")}.`,
          "On 2 cores more silos cannot add throughput: every extra process competes for the same cores and adds a gateway hop for calls whose actor lives elsewhere. The target here is that throughput holds, not that it grows.",
        ],
      };
    } finally {
      for (const silos of clusters.values()) for (const silo of silos) await silo.stop();
      await redis.stop();
    }
  },
};
