import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

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
    // Two cores: more workers only add contention between server-backed suites.
    maxWorkers: 2,
  },
});
