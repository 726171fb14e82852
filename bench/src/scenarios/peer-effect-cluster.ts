import { Entity, TestRunner } from "@effect/cluster";
import { Rpc } from "@effect/rpc";
import type { ActorRef } from "@granary/core";
import { Effect, Layer, ManagedRuntime, Schema } from "effect";
import { BenchCounter } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "peer-effect-cluster";
const TITLE = "Peer: @effect/cluster entities, in-process (TestRunner)";

const Increment = Rpc.make("Increment", { success: Schema.Number });
const Counter = Entity.make("Counter", [Increment]);
/** One handler set per entity instance: the counter lives in its closure, like a plain actor field. */
const CounterLive = Counter.toLayer(
  Effect.sync(() => {
    let count = 0;
    return { Increment: () => Effect.sync(() => ++count) };
  }),
);

function cases(config: BenchConfig): CaseSpec[] {
  // @effect/cluster entities are heavier to start: fewer actors than the local-call scenario.
  const actors = Math.min(config.actors, 1_000);
  const callers = Math.min(config.concurrency, 100);
  const ids = Array.from({ length: actors }, (_, i) => `e-${i}`);
  const granary = (n: number, keys: readonly string[]): CaseSpec["setup"] => {
    return async () => {
      const silo = await startBenchSilo({ actors: [BenchCounter] });
      const refs: ActorRef<BenchCounter>[] = keys.map((id) => silo.get(BenchCounter, id));
      await Promise.all(refs.map((ref) => ref.increment()));
      const random = randomInts(53);
      return {
        concurrency: n,
        op: () => (refs[random(refs.length)] as ActorRef<BenchCounter>).increment(),
        teardown: () => silo.stop(),
      };
    };
  };
  const effect = (n: number, keys: readonly string[]): CaseSpec["setup"] => {
    return async () => {
      const runtime = ManagedRuntime.make(Layer.provideMerge(CounterLive, TestRunner.layer));
      const makeClient = await runtime.runPromise(Counter.client);
      const clients = keys.map((id) => makeClient(id));
      await Promise.all(clients.map((client) => runtime.runPromise(client.Increment())));
      const random = randomInts(53);
      return {
        concurrency: n,
        op: () => runtime.runPromise((clients[random(clients.length)] as (typeof clients)[number]).Increment()),
        teardown: () => runtime.dispose(),
      };
    };
  };
  const one = ["e-0"];
  const load = `${actors} actors × ${callers} callers`;
  return [
    { name: "granary, sequential", role: "granary", setup: granary(1, one) },
    { name: "@effect/cluster, sequential", role: "peer", baseline: "granary, sequential", setup: effect(1, one) },
    { name: `granary, ${load}`, role: "granary", setup: granary(callers, ids) },
    { name: `@effect/cluster, ${load}`, role: "peer", baseline: `granary, ${load}`, setup: effect(callers, ids) },
  ];
}

/**
 * A counter entity on @effect/cluster's in-memory TestRunner (sharding, runners and message
 * storage in process) against a plain Granary actor, same run. The ratio is peer ÷ Granary.
 */
export const peerEffectCluster: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows: await runCases(NAME, cases(config), config),
      settings: {
        effect: "@effect/cluster 0.60 (effect 3), TestRunner.layer: in-memory sharding, runner and message storage",
        actors: Math.min(config.actors, 1_000),
        callers: Math.min(config.concurrency, 100),
      },
      notes: [
        "TestRunner is @effect/cluster's in-process cluster (its own test harness); a production runner adds storage and network hops. Compared with Granary (ratio = peer ÷ Granary).",
      ],
    };
  },
};
