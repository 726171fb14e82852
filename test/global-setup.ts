import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * Child-process tests (silos, crash writers, the demo) run the built `dist/`: bring it up to date
 * first, so `vitest run` never tests stale output. Incremental, so cheap when nothing changed.
 */
export default function buildOnce(): void {
  // `pnpm test` has just built; GRANARY_TEST_SKIP_BUILD=1 lets a developer test one package while
  // another is half-edited.
  if (process.env.npm_lifecycle_event === "test" || process.env.GRANARY_TEST_SKIP_BUILD === "1") return;
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-b", "tsconfig.json"], { cwd: root, stdio: "inherit" });
}
