import { missingExports, pendingScenario } from "../lib/pending.js";

/**
 * Throughput with 1 → 2 → 3 silos (separate processes) sharing one Redis: must not drop, and
 * activations must spread evenly. On 2 cores a third silo competes with the others for CPU.
 */
export const scaleOut = pendingScenario("scale-out", "1 → 2 → 3 silos", async () =>
  missingExports(() => import("@granary/runtime"), "@granary/runtime", ["Client"]),
);
