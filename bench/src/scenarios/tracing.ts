import { type ActorRef, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { Ledger } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import { maxOverhead } from "../lib/targets.js";
import { acquireTracing } from "../lib/tracing.js";
import type { Row, Scenario, ScenarioResult } from "../lib/types.js";
import { crossSiloAvailability } from "./cross-silo.js";

const NAME = "tracing";
const TITLE = "Tracing on (OTel SDK, in-memory exporter) vs off";

function cases(config: BenchConfig): CaseSpec[] {
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
  return [
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
 * The same load with the OpenTelemetry SDK recording every span the runtime makes, and without.
 * The target is on the cross-silo call; until the cluster mode lands, the local rows show what
 * tracing costs in-process.
 */
export const tracing: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const rows: Row[] = await runCases(NAME, cases(config), config);
    const spansPerCall = rows[1]?.extra?.spansPerCall;
    const cross = await crossSiloAvailability();
    const target = maxOverhead(0.15);
    rows.push({
      name: "cross-silo call, tracing on vs off",
      role: "granary",
      targets: [{ label: target.label, met: false, actual: "not measured" }],
      unavailable: cross ?? "to be measured here once cross-silo calls run",
    });
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows,
      settings: {
        sdk: "@opentelemetry/sdk-trace-base BasicTracerProvider, AlwaysOn sampler, SimpleSpanProcessor, InMemorySpanExporter",
        contextManager: "AsyncLocalStorageContextManager (installed for both rows)",
        spansPerTracedCall: spansPerCall ?? "unknown",
      },
      notes: [
        `The runtime recorded ${String(spansPerCall)} spans per traced call (activation and replay spans happen before the runs).`,
      ],
    };
  },
};
