import * as nact from "nact";
import type { BenchConfig } from "../lib/config.js";
import { bareCounterCase, granaryCounterCase } from "../lib/counter-cases.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts } from "../lib/silo.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "peer-nact";
const TITLE = "Peer: nact (in-memory actors), request/reply";

interface Increment {
  readonly sender: nact.Ref<number>;
}

/**
 * The local-call load on nact (`query`, i.e. ask with a reply) next to Granary and the bare mailbox,
 * in the same run. nact's persistent actors need its PostgreSQL engine; that variant is not here.
 */
function cases(config: BenchConfig): CaseSpec[] {
  const { actors, concurrency } = config;
  const ids = Array.from({ length: actors }, (_, i) => `n-${i}`);
  const one = ["n-0"];
  const bare = (callers: number, keys: readonly string[]) => bareCounterCase(callers, keys, 17);
  const granary = (callers: number, keys: readonly string[]) => granaryCounterCase(callers, keys, 17);
  const nactCase = (callers: number, keys: readonly string[]): CaseSpec["setup"] => {
    return async () => {
      const system = nact.start();
      const counter = (state: number, msg: Increment): number => {
        const next = (state ?? 0) + 1;
        nact.dispatch(msg.sender, next);
        return next;
      };
      const refs = keys.map((id) => nact.spawn(system, counter, id));
      const random = randomInts(17);
      const ask = (ref: nact.Ref<Increment>) => nact.query(ref, (sender: nact.Ref<number>) => ({ sender }), 30_000);
      await Promise.all(refs.map(ask));
      return {
        concurrency: callers,
        sampleEvery: 16,
        op: () => ask(refs[random(refs.length)] as nact.Ref<Increment>),
        teardown: async () => nact.stop(system),
      };
    };
  };
  const load = `${actors} actors × ${concurrency} callers`;
  return [
    { name: "bare mailbox, sequential", role: "baseline", setup: bare(1, one) },
    { name: "granary, sequential", role: "granary", baseline: "bare mailbox, sequential", setup: granary(1, one) },
    { name: "nact query, sequential", role: "peer", baseline: "bare mailbox, sequential", setup: nactCase(1, one) },
    { name: `bare mailbox, ${load}`, role: "baseline", setup: bare(concurrency, ids) },
    { name: `granary, ${load}`, role: "granary", baseline: `bare mailbox, ${load}`, setup: granary(concurrency, ids) },
    { name: `nact query, ${load}`, role: "peer", baseline: `bare mailbox, ${load}`, setup: nactCase(concurrency, ids) },
  ];
}

export const peerNact: Scenario = {
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
      settings: { actors, concurrency, nact: "7.x, in-memory actors, query() with a 30 s timeout per ask" },
      notes: [
        "nact's ask (`query`) spawns a temporary actor and arms a timer per call; Granary tracks deadlines in one swept set.",
      ],
    };
  },
};
