/**
 * `node bench/dist/tools/cpuprofile-top.js <file.cpuprofile> [count]`: the functions with the most
 * self time in a `node --cpu-prof` profile, with their source location. Used to explain a missed
 * target: run the scenario with `node --cpu-prof --cpu-prof-dir=<dir> bench/dist/run.js --in-process <name>`.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, countArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: cpuprofile-top <file.cpuprofile> [count]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
const byArea = new Map<string, number>();
let total = 0;
for (const [i, id] of profile.samples.entries()) {
  const node = byId.get(id);
  const dt = profile.timeDeltas[i] ?? 0;
  if (!node) continue;
  total += dt;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|packages|bench)\//, "$1/")}:${lineNumber + 1}` : "";
  const key = `${functionName || "(anonymous)"} ${where}`.trim();
  self.set(key, (self.get(key) ?? 0) + dt);
  const area =
    /packages\/([a-z]+)\//.exec(url)?.[1] ??
    (url.includes("/bench/") ? "bench" : /node_modules\/(?:\.pnpm\/)?((?:@[^/]+\/)?[^/@]+)/.exec(url)?.[1]) ??
    (url.startsWith("node:") ? "node internals" : functionName.startsWith("(") ? functionName : "native/builtins");
  byArea.set(area, (byArea.get(area) ?? 0) + dt);
}
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg ?? 25));
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
console.log("self time by area:");
for (const [area, us] of [...byArea.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12))
  console.log(`${pct(us)}  ${area}`);
console.log("top functions by self time:");
for (const [name, us] of top) console.log(`${pct(us)}  ${name}`);
