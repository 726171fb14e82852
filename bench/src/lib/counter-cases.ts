import type { ActorRef } from "@granary/core";
import type { SiloOptions } from "@granary/runtime";
import { BenchCounter } from "./actors.js";
import { BareMailbox } from "./bare-mailbox.js";
import type { CaseSpec } from "./harness.js";
import { randomInts, startBenchSilo } from "./silo.js";

/** The plain counter both the baseline and the peers count with. */
export class BareCounter {
  #count = 0;
  async increment(): Promise<number> {
    return ++this.#count;
  }
}

/** Baseline: `callers` loops calling `increment` on random keys of a bare per-key promise-chain mailbox. */
export function bareCounterCase(callers: number, keys: readonly string[], seed: number): CaseSpec["setup"] {
  return async () => {
    const mailbox = new BareMailbox(() => new BareCounter());
    const random = randomInts(seed);
    const increment = (actor: BareCounter) => actor.increment();
    return {
      concurrency: callers,
      sampleEvery: 16,
      op: () => mailbox.call(keys[random(keys.length)] as string, increment),
    };
  };
}

/**
 * The same load on Granary: `BenchCounter` actors, all activated before measuring. `options` adds
 * silo options, e.g. memory stores where the embedded SQLite file cannot open (another Node ABI).
 */
export function granaryCounterCase(
  callers: number,
  keys: readonly string[],
  seed: number,
  options: Partial<SiloOptions> = {},
): CaseSpec["setup"] {
  return async () => {
    const silo = await startBenchSilo({ ...options, actors: [BenchCounter] });
    const refs: ActorRef<BenchCounter>[] = keys.map((id) => silo.get(BenchCounter, id));
    // Activate every actor first: these scenarios are about calls to active actors.
    await Promise.all(refs.map((ref) => ref.increment()));
    const random = randomInts(seed);
    return {
      concurrency: callers,
      sampleEvery: 16,
      op: () => (refs[random(refs.length)] as ActorRef<BenchCounter>).increment(),
      extra: () => ({ activations: silo.activationCount }),
      teardown: () => silo.stop(),
    };
  };
}
