import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { SlowFirstSequencer } from "./test/slow-first-sequencer.js";

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against sources; child-process tests (silos, crash tests) run the built dist.
    alias: [
      { find: /^@granary\/core\/internal$/, replacement: src("./packages/core/src/internal/index.ts") },
      {
        find: /^@granary\/(core|runtime|sqlite|redis|postgres|testing|inspector|cli)$/,
        replacement: src("./packages/$1/src/index.ts"),
      },
    ],
  },
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: [
      "packages/*/src/**/*.test.ts",
      "test/**/*.test.ts",
      "examples/*/src/**/*.test.ts",
      "bench/src/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Files share a worker's module cache: re-importing the runtime for each of ~120 files cost about
    // a third of the suite's wall time. Tests must not depend on a fresh module state (see
    // recheckTracing for the one that did).
    isolate: false,
    sequence: { sequencer: SlowFirstSequencer },
    // Two cores: more workers only add contention between server-backed suites.
    maxWorkers: 2,
  },
});
