/**
 * `node bench/dist/tools/count-ops.js <scenario> <row text> <ops>`: sets up the first row of
 * `scenario` whose name contains `row text`, warms it up, then runs exactly `ops` operations and
 * exits. Meant for instruction counts, which stay repeatable on a busy machine where wall time
 * does not:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/dist/tools/count-ops.js local-call "granary, 10000" 100000
 *
 * Run it twice (N and 2N operations): the difference of the two totals divided by N is the
 * instruction cost of one operation, setup and warm-up cancelled out.
 *
 * COUNT_ALLOC=1 prints the bytes allocated per operation by allocation site (V8's sampling heap
 * profiler, counting objects the GC already collected): what a call allocates, freed or not.
 */
import { Session } from "node:inspector/promises";
import { createInterface } from "node:readline";
import { benchConfig } from "../lib/config.js";
import { timeRun } from "../lib/harness.js";
import { findScenario } from "../scenarios/index.js";

const [name, rowText, opsArg] = process.argv.slice(2);
const ops = Number(opsArg);
if (!name || !rowText || !Number.isInteger(ops) || ops < 1) {
  console.error("usage: count-ops <scenario> <row text> <ops>");
  process.exit(2);
}
const scenario = findScenario(name);
const config = benchConfig(process.env, { isolate: false });
const spec = scenario?.cases?.(config, {} as never).find((c) => c.name.includes(rowText));
if (!spec) {
  console.error(`no row containing "${rowText}" in scenario "${name}"`);
  process.exit(2);
}
const workload = await spec.setup();
await workload.reset?.();
const warmup = Number(process.env.COUNT_WARMUP_OPS ?? 20_000);
if (warmup > 0) await timeRun(workload, 3_600_000, warmup);
// COUNT_SYNC=1: say READY, wait for a line on stdin (the driver turns instrumentation on, e.g.
// `callgrind_control -i on`), run, say DONE and wait again: only the measured operations count.
const sync = process.env.COUNT_SYNC === "1";
if (sync) await handshake("READY");
const allocations = process.env.COUNT_ALLOC === "1" ? await startAllocationSampling() : undefined;
const cpuBefore = process.cpuUsage();
const sample = await timeRun(workload, 3_600_000, ops);
const cpu = process.cpuUsage(cpuBefore);
if (sync) await handshake("DONE");
if (allocations) printAllocations(await allocations.stop(), sample.ops);
const cpuNsPerOp = ((cpu.user + cpu.system) * 1000) / sample.ops;
console.log(
  `${spec.name}: ${sample.ops} ops in ${sample.elapsedMs.toFixed(0)} ms, ${cpuNsPerOp.toFixed(0)} ns CPU per op (all threads)`,
);
await workload.teardown?.();
process.exit(0);

async function handshake(word: string): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  const answered = new Promise<void>((resolve) => lines.once("line", () => resolve()));
  process.stdout.write(`${word}\n`);
  await answered;
  lines.close();
}

interface SamplingNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly SamplingNode[];
}

async function startAllocationSampling(): Promise<{ stop(): Promise<SamplingNode> }> {
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 32,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return {
    stop: async () => {
      const { profile } = (await session.post("HeapProfiler.stopSampling")) as { profile: { head: SamplingNode } };
      session.disconnect();
      return profile.head;
    },
  };
}

function printAllocations(head: SamplingNode, ops: number): void {
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: SamplingNode): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || "(anonymous)"} ${url.replace(/^.*\/(packages|bench)\//, "$1/")}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) walk(child);
  };
  walk(head);
  console.log(`allocated ≈ ${(total / ops).toFixed(0)} bytes per operation`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    if (bytes / ops >= 1) console.log(`${(bytes / ops).toFixed(0).padStart(7)}  ${site}`);
  }
}
