import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * Child-process tests (silos, crash writers, the demo) run the built `dist/`: bring it up to date
 * first, so `vitest run` never tests stale output. Incremental, so cheap when nothing changed.
 */
export default function buildOnce(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-b", "tsconfig.json"], { cwd: root, stdio: "inherit" });
}
