import type { ActorRef } from "@granary/core";
import { Client } from "@granary/runtime";
import { startRedisServer } from "@granary/testing";
import { BenchCounter } from "../lib/actors.js";
import { ClusterCounter, clusterCounters } from "../lib/cluster-counters.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { BENCH_CLUSTER_KEY, type RemoteSilo, startRemoteSilo } from "../lib/remote-silo.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts } from "../lib/silo.js";
import { median } from "../lib/stats.js";
import { maxPerOp, maxPerOpRatio } from "../lib/targets.js";
import type { Row, ScenarioResult } from "../lib/types.js";

const NAME = "scale-out";
const TITLE = "1 → 2 → 3 silos (cluster mode, one client): CPU per call over every process";
const SIZES = [1, 2, 3] as const;

interface Context {
  readonly redisUrl: string;
}

const clusterOf = (silos: number) => `bench-scale-${silos}`;
const rowName = (silos: number, inFlight: number) => `${silos} silo${silos > 1 ? "s" : ""}, ${inFlight} in flight`;
const hintsOffName = (inFlight: number) => `${rowName(3, inFlight)}, owner hints off`;

/**
 * A client calling BenchCounter.increment on the actors of `clusterName`. Every actor is called
 * once first (so the client learns its owner), then the row reads CPU and routing counters of
 * every process around each run. `ownerCacheSize: 0` is the client before owner hints: every call
 * to the next gateway in turn.
 */
function clusterCase(
  config: BenchConfig,
  redisUrl: string,
  clusterName: string,
  inFlight: number,
  ownerCacheSize?: number,
): CaseSpec["setup"] {
  return async () => {
    const client = await Client.connect({
      redis: redisUrl,
      clusterName,
      clusterKey: BENCH_CLUSTER_KEY,
      ...(ownerCacheSize === undefined ? {} : { ownerCacheSize }),
    });
    const refs: ActorRef<BenchCounter>[] = Array.from({ length: config.storeActors }, (_, i) =>
      client.get(BenchCounter, `x-${i}`),
    );
    await Promise.all(refs.map((ref) => ref.increment()));
    const counters = clusterCounters(client, redisUrl);
    const random = randomInts(43);
    return {
      concurrency: inFlight,
      op: () => (refs[random(refs.length)] as ActorRef<BenchCounter>).increment(),
      counters: () => counters.read(),
      teardown: async () => {
        await counters.close();
        await client.close();
      },
    };
  };
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const inFlight = Math.max(...config.inFlight);
  const oneSilo = rowName(1, inFlight);
  const forwardShare = maxPerOp(ClusterCounter.Forwarded, 0.05, "≤ 5% of calls forwarded", percent);
  const cpu = maxPerOpRatio(ClusterCounter.Cpu, 1.25, "CPU/call ≤ 1.25× 1 silo");
  return [
    ...SIZES.map(
      (n): CaseSpec => ({
        name: rowName(n, inFlight),
        role: n === 1 ? "baseline" : "granary",
        ...(n === 1 ? {} : { baseline: oneSilo }),
        ...(n === 3 ? { targets: [forwardShare, cpu] } : {}),
        setup: clusterCase(config, context.redisUrl, clusterOf(n), inFlight),
      }),
    ),
    {
      name: hintsOffName(inFlight),
      role: "granary",
      baseline: oneSilo,
      setup: clusterCase(config, context.redisUrl, clusterOf(3), inFlight, 0),
    },
  ];
}

function percent(value: number): string {
  return `${(value * 100).toFixed(value < 0.1 ? 2 : 0)}%`;
}

function us(value: number | undefined): string {
  return value === undefined ? "–" : `${value.toFixed(1)} µs`;
}

/** One line per row: CPU per call by process, and the share of calls a silo forwarded. */
function costNote(row: Row): string {
  const p = row.perOp ?? {};
  const ratio = row.perOpRatio?.[ClusterCounter.Cpu];
  return `${row.name}: CPU/call ${us(p[ClusterCounter.Cpu])} (client ${us(p[ClusterCounter.CpuClient])}, silos ${us(p[ClusterCounter.CpuSilos])}, Redis ${us(p[ClusterCounter.CpuRedis])})${ratio === undefined ? "" : `, ${ratio.toFixed(2)}× 1 silo`}; forwarded ${percent(p[ClusterCounter.Forwarded] ?? Number.NaN)} of calls, sent to the known owner ${percent(p[ClusterCounter.ToKnownOwner] ?? Number.NaN)}.`;
}

/** Median of per-round ratios of two rows measured in the same rounds. */
function roundRatio(a: Row | undefined, b: Row | undefined): number | undefined {
  if (!a?.runs || !b?.runs || a.runs.length !== b.runs.length) return undefined;
  return median(a.runs.map((ops, r) => ops / (b.runs?.[r] ?? Number.NaN)));
}

/**
 * The same client load on clusters of 1, 2 and 3 silo processes (one Redis), and on 3 silos with
 * owner hints off (every call to the next gateway, as before one-hop routing). On 2 cores more
 * silos cannot add throughput, so the row that matters is the cost: CPU time per call summed over
 * the client, the silos and Redis, and the share of calls a silo had to forward.
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
      const inFlight = Math.max(...config.inFlight);
      const oneHop = rows.find((r) => r.name === rowName(3, inFlight));
      const hintsOff = rows.find((r) => r.name === hintsOffName(inFlight));
      const throughput = roundRatio(oneHop, hintsOff);
      const cpuOneHop = oneHop?.perOp?.[ClusterCounter.Cpu];
      const cpuHintsOff = hintsOff?.perOp?.[ClusterCounter.Cpu];
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: rows.map((row) => {
          const n = SIZES.find((size) => row.name.startsWith(`${size} silo`)) ?? 3;
          return { ...row, extra: { ...row.extra, activationsPerSilo: (spread[`${n}`] ?? []).join(" / ") } };
        }),
        settings: {
          actors: config.storeActors,
          inFlight,
          activationsPerSilo: spread,
          cores: "2: silos, Redis and the client share them",
          cpu: "process.cpuUsage() of the client's process and of each silo process (SiloInfo.cpu), Redis INFO cpu (used_cpu_user + used_cpu_sys), read before and after every run; per call = growth ÷ calls",
        },
        notes: [
          ...rows.map(costNote),
          ...(throughput === undefined || cpuOneHop === undefined || cpuHintsOff === undefined
            ? []
            : [
                `3 silos, owner hints on vs off: throughput ${throughput.toFixed(2)}× (median of per-round ratios), CPU/call ${(cpuOneHop / cpuHintsOff).toFixed(2)}×.`,
              ]),
          `Activations per silo: ${SIZES.map((n) => `${n} silo(s): ${(spread[`${n}`] ?? []).join(" / ")}`).join("; ")}.`,
          "On 2 cores more silos cannot add throughput: every extra process competes for the same cores. The targets are about cost: calls go straight to their actor's owner (≤ 5% forwarded once every actor was called), and 3 silos spend ≤ 1.25× the CPU per call of 1 silo, summed over every process. The other clusters' silos stay up, idle, during a row (their lease renewals reach the shared Redis).",
        ],
      };
    } finally {
      for (const silos of clusters.values()) for (const silo of silos) await silo.stop();
      await redis.stop();
    }
  },
};
