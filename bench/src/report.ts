/**
 * `pnpm bench:report`: rewrites the benchmark table in the repository's README.md from
 * bench/results/*.json. Only the text between `<!-- bench:start -->` and `<!-- bench:end -->`
 * changes; without the markers a "## Benchmarks" section is appended.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderBenchmarks, spliceReadme } from "./lib/markdown.js";
import { readResults } from "./lib/results.js";
import { SCENARIOS } from "./scenarios/index.js";

const readmePath = process.argv[2] ?? fileURLToPath(new URL("../../README.md", import.meta.url));
const results = readResults();
if (results.length === 0) {
  console.error("no results in bench/results/: run `pnpm bench` first");
  process.exitCode = 1;
} else {
  const readme = existsSync(readmePath) ? readFileSync(readmePath, "utf8") : "";
  const block = renderBenchmarks(
    results,
    SCENARIOS.map((s) => s.name),
  );
  writeFileSync(readmePath, spliceReadme(readme, block));
  console.log(`updated ${readmePath} from ${results.length} result files`);
}
