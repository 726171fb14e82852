/**
 * `pnpm bench [name...]`: runs every scenario (or the named ones), each in its own node process
 * (with --expose-gc), prints its table and writes bench/results/<name>.json.
 *
 * Knobs: BENCH_DURATION_MS, BENCH_WARMUP_MS, BENCH_RUNS, BENCH_ACTORS, BENCH_CONCURRENCY,
 * BENCH_STORE_ACTORS, BENCH_STORE_CALLERS, BENCH_COLD_STREAMS, BENCH_ACTIVATIONS, BENCH_IN_FLIGHT,
 * BENCH_MAX_OPS, BENCH_TMP. `--in-process` runs the scenarios in this process instead.
 * A scenario that needs a newer Node (`minNodeMajor`) gets its process on Node 24 (lib/node24.ts).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./lib/config.js";
import { benchConfig } from "./lib/config.js";
import { textTable } from "./lib/format.js";
import { machineInfo } from "./lib/machine.js";
import { findOrInstallNode24, nodeMajor } from "./lib/node24.js";
import { writeResult } from "./lib/results.js";
import type { Scenario } from "./lib/scenario.js";
import type { ScenarioResult } from "./lib/types.js";
import { findScenario, SCENARIOS } from "./scenarios/index.js";

async function measure(scenario: Scenario, config: BenchConfig): Promise<ScenarioResult> {
  try {
    return await scenario.run(config);
  } catch (error) {
    return {
      scenario: scenario.name,
      title: scenario.title,
      status: "failed",
      reason: (error as Error).stack ?? String(error),
      rows: [],
      settings: {},
      notes: [],
    };
  }
}

async function runOne(name: string): Promise<ScenarioResult> {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario "${name}"`);
  const config = benchConfig();
  const machine = machineInfo();
  const result = await measure(scenario, config);
  console.log(textTable(result));
  // A BENCH_ONLY run measures part of a scenario (profiling): it does not replace the results.
  if (result.status !== "failed" && config.only === undefined) {
    writeResult(result, { machine, config, command: `pnpm bench ${name}` });
  }
  return result;
}

async function main(argv: readonly string[]): Promise<number> {
  const inProcess = argv.includes("--in-process");
  const names = argv.filter((a) => !a.startsWith("--"));
  for (const name of names) {
    if (!findScenario(name)) {
      console.error(`unknown scenario "${name}"; scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}`);
      return 2;
    }
  }
  const selected = names.length > 0 ? names : SCENARIOS.map((s) => s.name);
  const machine = machineInfo();
  console.log(
    `Granary benchmarks — ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverage.join(" ")}`,
  );
  if (machine.loadAverage[0] !== undefined && machine.loadAverage[0] > machine.cores * 0.5) {
    console.log(`warning: load average ${machine.loadAverage[0]} on ${machine.cores} cores: numbers will be noisy`);
  }
  let failed = 0;
  for (const name of selected) {
    if (inProcess) {
      if ((await runOne(name)).status === "failed") failed++;
      continue;
    }
    const node = nodeFor(findScenario(name) as Scenario);
    if ("reason" in node) {
      console.log(`${name}: skipped: ${node.reason}\n`);
      continue;
    }
    // One process per scenario: no scenario inherits another's heap, JIT state or global tracer.
    const child = spawnSync(node.path, ["--expose-gc", fileURLToPath(import.meta.url), "--child", name], {
      stdio: "inherit",
    });
    if (child.status !== 0) failed++;
    console.log("");
  }
  return failed === 0 ? 0 : 1;
}

/** This Node, or Node 24 for a scenario that needs a newer one than this. */
function nodeFor(scenario: Scenario): { readonly path: string } | { readonly reason: string } {
  if (scenario.minNodeMajor === undefined || nodeMajor() >= scenario.minNodeMajor) return { path: process.execPath };
  const node = findOrInstallNode24(scenario.name);
  if ("path" in node) {
    console.log(
      `${scenario.name} needs Node ≥ ${scenario.minNodeMajor}: running it on ${node.path} (this is Node ${process.version})`,
    );
  }
  return node;
}

const argv = process.argv.slice(2);
if (argv[0] === "--child-json") {
  // runUnderNode24: the config comes from the parent, the result goes back in a file, nothing is written to results/.
  const scenario = findScenario(argv[2] ?? "");
  if (!scenario) throw new Error(`no scenario "${argv[2]}"`);
  const result = await measure(scenario, JSON.parse(process.env.BENCH_CONFIG_JSON ?? "null") ?? benchConfig());
  writeFileSync(argv[1] as string, JSON.stringify(result));
  process.stdout.write("", () => process.exit(0));
} else if (argv[0] === "--child") {
  const result = await runOne(argv[1] ?? "");
  // Exit even if a library left a handle open (a peer's timers, a socket): the parent waits on us.
  process.stdout.write("", () => process.exit(result.status === "failed" ? 1 : 0));
} else {
  process.exitCode = await main(argv);
}
