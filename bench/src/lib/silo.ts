import { Silo, type SiloOptions } from "@granary/runtime";
import { pino } from "pino";

/**
 * Starts a silo as the benchmarks run it: production settings (no deep-freeze of state, which
 * NODE_ENV=production also turns off), logs silenced, no idle collection during a run, and no
 * SIGTERM/SIGINT listener: the bench process handles its own exit, and a scenario that abandons
 * silos (cold activation swaps in fresh ones) must not leave them registered with the process.
 */
export async function startBenchSilo(options: SiloOptions): Promise<Silo> {
  // Silent unless GRANARY_LOG_LEVEL asks for logs; not by setting the variable, which would leak to
  // every process the bench (or the test worker running its smoke test) starts later.
  const logger = process.env.GRANARY_LOG_LEVEL ? {} : { logger: pino({ level: "silent" }) };
  return Silo.start({ freezeState: false, idleTimeoutMs: 3_600_000, handleSignals: false, ...logger, ...options });
}

/** A tiny xorshift generator: Math.random is fine too, but this is cheaper and repeatable. */
export function randomInts(seed: number): (bound: number) => number {
  let x = seed | 0 || 0x9e3779b9;
  return (bound) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % bound;
  };
}
