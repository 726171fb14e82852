import type { BenchConfig } from "./config.js";
import type { CaseSpec } from "./harness.js";
import type { ScenarioResult } from "./types.js";

/** One benchmark scenario: one file in `scenarios/`, its baselines measured in the same run. */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  /**
   * Runs the scenario. Returns `unavailable(...)` (see results.ts) when a piece it needs has not
   * landed or cannot run here: never made-up numbers.
   */
  run(config: BenchConfig): Promise<ScenarioResult>;
  /**
   * The scenario's cases, built from the config and a structured-cloneable context (paths, ports)
   * that `run` prepared: a case worker thread builds its case again from these.
   */
  readonly cases?: (config: BenchConfig, context: never) => CaseSpec[];
  /**
   * The oldest Node major the scenario runs on (a peer's `engines`). On an older Node, `pnpm bench`
   * starts its process on Node 24 from the CI cache (installing it there if needed): see node24.ts.
   */
  readonly minNodeMajor?: number;
  /** The smoke test's time limit for this scenario, when it needs more than vitest's default. */
  readonly smokeTimeoutMs?: number;
}
