import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchConfig } from "./config.js";

/** A fresh folder for one scenario's files; `remove` deletes it. */
export function scratchDir(config: BenchConfig, label: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(config.tmpDir ?? tmpdir(), `granary-bench-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
