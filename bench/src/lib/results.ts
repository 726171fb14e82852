import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./config.js";
import { type MachineInfo, machineInfo } from "./machine.js";
import type { ScenarioResult } from "./types.js";

/** bench/results/, from both src/lib (vitest) and dist/lib (node). */
export const RESULTS_DIR = fileURLToPath(new URL("../../results/", import.meta.url));

/** What `bench/results/<scenario>.json` holds. */
export interface ResultFile extends ScenarioResult {
  readonly measuredAt: string;
  readonly machine: MachineInfo;
  /** Machine load when the scenario finished (compare with machine.loadAverage at its start). */
  readonly loadAverageAfter: readonly number[];
  readonly config: BenchConfig;
  readonly command: string;
}

/** A scenario that cannot run (yet): it says why and carries no numbers. */
export function unavailable(scenario: string, title: string, reason: string): ScenarioResult {
  return { scenario, title, status: "unavailable", reason, rows: [], settings: {}, notes: [] };
}

export function writeResult(
  result: ScenarioResult,
  context: { machine: MachineInfo; config: BenchConfig; command: string },
): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file: ResultFile = {
    ...result,
    measuredAt: new Date().toISOString(),
    machine: context.machine,
    loadAverageAfter: machineInfo().loadAverage,
    config: context.config,
    command: context.command,
  };
  const path = `${RESULTS_DIR}${result.scenario}.json`;
  // Write then rename, so `bench:report` never reads a half-written file.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return path;
}

export function readResults(dir = RESULTS_DIR): ResultFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  return names.sort().map((name) => JSON.parse(readFileSync(`${dir}${name}`, "utf8")) as ResultFile);
}
