import type { BenchConfig } from "../lib/config.js";
import { bareCounterCase, granaryCounterCase } from "../lib/counter-cases.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import type { Scenario } from "../lib/scenario.js";
import { maxCostFactor, minOpsPerSec } from "../lib/targets.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "local-call";
const TITLE = "Local call to an active plain actor";

function cases(config: BenchConfig): CaseSpec[] {
  const { actors, concurrency } = config;
  const ids = Array.from({ length: actors }, (_, i) => `c-${i}`);
  const bare = (callers: number, keys: readonly string[]) => bareCounterCase(callers, keys, 7);
  const granary = (callers: number, keys: readonly string[]) => granaryCounterCase(callers, keys, 7);
  const one = ["c-0"];
  const list: CaseSpec[] = [
    { name: "bare mailbox, sequential", role: "baseline", setup: bare(1, one) },
    {
      name: "granary, sequential",
      role: "granary",
      baseline: "bare mailbox, sequential",
      targets: [maxCostFactor(4, "bare mailbox")],
      setup: granary(1, one),
    },
    {
      name: `bare mailbox, ${actors} actors × ${concurrency} callers`,
      role: "baseline",
      setup: bare(concurrency, ids),
    },
    {
      name: `granary, ${actors} actors × ${concurrency} callers`,
      role: "granary",
      baseline: `bare mailbox, ${actors} actors × ${concurrency} callers`,
      targets: [minOpsPerSec(1_000_000, "calls/s"), maxCostFactor(4, "bare mailbox")],
      setup: granary(concurrency, ids),
    },
  ];
  return list;
}

/** Sequential calls to one actor, and N callers over `actors` actors, against the bare mailbox. */
export const localCall: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const { actors, concurrency } = config;
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows: await runCases(NAME, cases(config), config),
      settings: { actors, concurrency, freezeState: false, store: "none (plain Actor)" },
      notes: [
        "Baseline: a per-key promise chain (Map of tails) calling the same class; it isolates what the runtime adds on top of serializing async calls per key (proxy, call context, deadline tracking, catalog lookup, mailbox).",
      ],
    };
  },
};
