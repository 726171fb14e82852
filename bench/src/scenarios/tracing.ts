import { type ActorRef, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { startRedisServer } from "@granary/testing";
import { Ledger } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { startRemoteSilo } from "../lib/remote-silo.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import { maxOverhead } from "../lib/targets.js";
import { acquireTracing } from "../lib/tracing.js";
import type { Row, Scenario, ScenarioResult } from "../lib/types.js";
import { granaryClientCase } from "./cross-silo.js";

const NAME = "tracing";
const TITLE = "Tracing on (OTel SDK, in-memory exporter) vs off";

interface Context {
  readonly redisUrl: string;
  readonly clusterOff: string;
  readonly clusterOn: string;
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const { actors, concurrency } = config;
  const ids = Array.from({ length: actors }, (_, i) => `t-${i}`);
  const local = (on: boolean): CaseSpec["setup"] => {
    return async () => {
      const { tracing, release } = acquireTracing();
      tracing.enabled = false;
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
      const collect = () => {
        if (on) spans += tracing.spansExported - since;
        since = tracing.spansExported;
      };
      return {
        concurrency,
        sampleEvery: 8,
        reset: async () => {
          tracing.enabled = on;
          since = tracing.spansExported;
        },
        op: async () => {
          await (refs[random(refs.length)] as ActorRef<Ledger>).deposit(1);
          calls++;
        },
        extra: () => {
          tracing.enabled = false;
          collect();
          return on ? { spansPerCall: Math.round((spans / Math.max(1, calls)) * 100) / 100 } : {};
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
  return [
    {
      name: `cross-silo call, ${inFlight} in flight, tracing off`,
      role: "baseline",
      setup: granaryClientCase(config, context.redisUrl, context.clusterOff, inFlight, false),
    },
    {
      name: `cross-silo call, ${inFlight} in flight, tracing on (client and silo)`,
      role: "granary",
      baseline: `cross-silo call, ${inFlight} in flight, tracing off`,
      targets: [maxOverhead(0.15)],
      setup: granaryClientCase(config, context.redisUrl, context.clusterOn, inFlight, true),
    },
    { name: `local ${load}, tracing off`, role: "baseline", setup: local(false) },
    {
      name: `local ${load}, tracing on`,
      role: "granary",
      baseline: `local ${load}, tracing off`,
      setup: local(true),
    },
  ];
}

/**
 * The same load with the OpenTelemetry SDK recording every span the runtime makes, and without:
 * the cross-silo call (where the target is) and a local event-sourced command.
 */
export const tracing: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const redis = await startRedisServer({ appendonly: false });
    const off = await startRemoteSilo({ redisUrl: redis.url, clusterName: "bench-tracing-off", tracing: false });
    const on = await startRemoteSilo({ redisUrl: redis.url, clusterName: "bench-tracing-on", tracing: true });
    const context: Context = { redisUrl: redis.url, clusterOff: off.clusterName, clusterOn: on.clusterName };
    let rows: Row[];
    try {
      rows = await runCases(NAME, cases(config, context), config, context);
    } finally {
      await on.stop();
      await off.stop();
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
          "two silo processes (one with the SDK on), one cluster each on a throwaway Redis; the client's worker thread has the SDK on for the 'on' row",
        sdk: "@opentelemetry/sdk-trace-base BasicTracerProvider, AlwaysOn sampler, SimpleSpanProcessor, InMemorySpanExporter",
        contextManager: "AsyncLocalStorageContextManager (installed for both rows)",
        spansPerTracedCall: spansPerCall ?? "unknown",
      },
      notes: [
        `The runtime recorded ${String(spansPerCall)} spans per traced local call (activation and replay spans happen before the runs).`,
      ],
    };
  },
};
