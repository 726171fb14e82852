import { type ActorRef, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { startRedisServer } from "@granary/testing";
import { Ledger } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { type RemoteSilo, startRemoteSilo } from "../lib/remote-silo.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import { maxOverhead } from "../lib/targets.js";
import { acquireTracing, type TracingMode } from "../lib/tracing.js";
import type { Row, ScenarioResult } from "../lib/types.js";
import { granaryClientCase } from "./cross-silo.js";

const NAME = "tracing";
const TITLE = "Tracing on (OTel SDK, exporter without I/O) vs off";

interface Context {
  readonly redisUrl: string;
  readonly clusters: Readonly<Record<TracingMode, string>>;
}

const PROCESSOR: Record<Exclude<TracingMode, "off">, string> = {
  batch: "BatchSpanProcessor",
  simple: "SimpleSpanProcessor (reference)",
};

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const { actors, concurrency } = config;
  const ids = Array.from({ length: actors }, (_, i) => `t-${i}`);
  const local = (mode: TracingMode): CaseSpec["setup"] => {
    return async () => {
      const { tracing, release } = acquireTracing();
      tracing.mode = "off";
      const silo = await startBenchSilo({
        actors: [Ledger],
        store: new MemoryEventStore(),
        snapshots: new MemorySnapshotStore(),
      });
      const refs: ActorRef<Ledger>[] = ids.map((id) => silo.get(Ledger, id));
      await Promise.all(refs.map((ref) => ref.balance()));
      const random = randomInts(13);
      let calls = 0;
      let spans = 0;
      let since = 0;
      return {
        concurrency,
        sampleEvery: 8,
        reset: async () => {
          tracing.mode = mode;
          since = tracing.spansExported;
        },
        op: async () => {
          await (refs[random(refs.length)] as ActorRef<Ledger>).deposit(1);
          calls++;
        },
        extra: async () => {
          tracing.mode = "off";
          await tracing.flush();
          spans += tracing.spansExported - since;
          since = tracing.spansExported;
          return mode === "off" ? {} : { spansPerCall: Math.round((spans / Math.max(1, calls)) * 100) / 100 };
        },
        teardown: async () => {
          await silo.stop();
          await release();
        },
      };
    };
  };
  const load = `ES command, memory store, ${actors} actors × ${concurrency} callers`;
  const inFlight = Math.max(...config.inFlight.filter((n) => n <= 16), 1);
  const remote = `cross-silo call, ${inFlight} in flight`;
  const on = (mode: Exclude<TracingMode, "off">): CaseSpec[] => [
    {
      name: `${remote}, tracing on: ${PROCESSOR[mode]} (client and silo)`,
      role: "granary",
      baseline: `${remote}, tracing off`,
      targets: mode === "batch" ? [maxOverhead(0.15)] : [],
      setup: granaryClientCase(config, context.redisUrl, context.clusters[mode], inFlight, mode),
    },
  ];
  const onLocal = (mode: Exclude<TracingMode, "off">): CaseSpec => ({
    name: `local ${load}, tracing on: ${PROCESSOR[mode]}`,
    role: "granary",
    baseline: `local ${load}, tracing off`,
    setup: local(mode),
  });
  return [
    {
      name: `${remote}, tracing off`,
      role: "baseline",
      setup: granaryClientCase(config, context.redisUrl, context.clusters.off, inFlight, "off"),
    },
    ...on("batch"),
    ...on("simple"),
    { name: `local ${load}, tracing off`, role: "baseline", setup: local("off") },
    onLocal("batch"),
    onLocal("simple"),
  ];
}

/**
 * The same load with the OpenTelemetry SDK recording every span the runtime makes, and without:
 * the cross-silo call (where the target is) and a local event-sourced command. The SDK runs as
 * deployments run it (BatchSpanProcessor); the SimpleSpanProcessor rows are kept for reference.
 */
export const tracing: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const redis = await startRedisServer({ appendonly: false });
    const modes: TracingMode[] = ["off", "batch", "simple"];
    const silos = await Promise.all(
      modes.map((mode) =>
        startRemoteSilo({ redisUrl: redis.url, clusterName: `bench-tracing-${mode}`, tracing: mode }),
      ),
    );
    const clusters = Object.fromEntries(modes.map((mode, i) => [mode, (silos[i] as RemoteSilo).clusterName]));
    const context: Context = { redisUrl: redis.url, clusters: clusters as Context["clusters"] };
    let rows: Row[];
    try {
      rows = await runCases(NAME, cases(config, context), config, context);
    } finally {
      for (const silo of silos) await silo.stop();
      await redis.stop();
    }
    const spansPerCall = rows.find((r) => r.extra?.spansPerCall !== undefined)?.extra?.spansPerCall;
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows,
      settings: {
        crossSilo:
          "three silo processes (tracing off, batch, simple), one cluster each on a throwaway Redis; the client's worker thread runs the SDK in the same mode as its silo",
        sdk: "@opentelemetry/sdk-trace-base BasicTracerProvider, AlwaysOn sampler; BatchSpanProcessor at its defaults (queue 2,048, batches of 512, 5 s delay) or SimpleSpanProcessor; an exporter that counts spans and drops them (no I/O, no serialization)",
        contextManager:
          "AsyncLocalStorageContextManager wherever the SDK is on (in the local rows, installed for the 'off' row too)",
        spansPerTracedCall: spansPerCall ?? "unknown",
      },
      notes: [
        `The runtime recorded ${String(spansPerCall)} spans per traced local call (activation and replay spans happen before the runs).`,
      ],
    };
  },
};
