import { formatMs, formatOps, formatRatio } from "./format.js";
import type { ResultFile } from "./results.js";
import type { Row } from "./types.js";

export const START_MARKER = "<!-- bench:start -->";
export const END_MARKER = "<!-- bench:end -->";

const escapeCell = (text: string): string => text.replaceAll("|", "\\|").replaceAll("\n", " ");

function targetCell(row: Row): string {
  if (row.targets.length === 0) return "";
  return row.targets
    .map((t) =>
      t.actual === "not measured" ? `${t.label}: pending` : `${t.met ? "✅" : "❌"} ${t.label} (${t.actual})`,
    )
    .join("<br>");
}

function rowLine(scenario: string, row: Row): string {
  if (row.unavailable !== undefined) {
    return `| ${scenario} | ${escapeCell(row.name)} | – | – | – | not available yet | ${escapeCell(targetCell(row))} |`;
  }
  const summary = row.extra?.summary;
  const ops = row.opsPerSec === undefined ? (typeof summary === "string" ? summary : "–") : formatOps(row.opsPerSec);
  return `| ${scenario} | ${escapeCell(row.name)} | ${ops} | ${formatMs(row.p50Ms)} | ${formatMs(row.p99Ms)} | ${escapeCell(formatRatio(row))} | ${escapeCell(targetCell(row))} |`;
}

/** The README block: machine line, one table over every scenario, and how to reproduce. */
export function renderBenchmarks(results: readonly ResultFile[], order: readonly string[]): string {
  const sorted = [...results].sort((a, b) => rank(order, a.scenario) - rank(order, b.scenario));
  const lines: string[] = [];
  const machines = new Set(
    sorted.map(
      (r) => `${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}`,
    ),
  );
  const loads = sorted.map((r) => r.machine.loadAverage[0] ?? 0);
  const dates = sorted.map((r) => r.measuredAt.slice(0, 10)).sort();
  lines.push(
    `Measured on ${[...machines].join("; ")}, ${dates[0] ?? "?"}${dates.length > 1 && dates.at(-1) !== dates[0] ? ` to ${dates.at(-1)}` : ""}; 1-minute load average ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} when the scenarios started (2 cores: anything above ~1 means another process competed). Medians of ${sorted[0]?.config.runs ?? "?"} runs of ${sorted[0]?.config.durationMs ?? "?"} ms after a ${sorted[0]?.config.warmupMs ?? "?"} ms warm-up; every ratio is against a raw baseline measured in the same run. Method: [bench/README.md](bench/README.md).`,
    "",
    "| scenario | row | ops/s | p50 | p99 | vs baseline | target |",
    "|---|---|---:|---:|---:|---|---|",
  );
  for (const result of sorted) {
    if (result.status !== "ok") {
      lines.push(
        `| ${result.scenario} | ${escapeCell(result.title)} | – | – | – | not available yet: ${escapeCell(result.reason ?? "")} | |`,
      );
      continue;
    }
    for (const row of result.rows) lines.push(rowLine(result.scenario, row));
  }
  lines.push(
    "",
    "Reproduce: `pnpm bench` (all scenarios) or `pnpm bench <scenario>`, then `pnpm bench:report` to refresh this table from `bench/results/*.json`.",
  );
  return lines.join("\n");
}

/** Replaces the text between the markers, or appends a "## Benchmarks" section with them. */
export function spliceReadme(readme: string, block: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start >= 0 && end > start) {
    return `${readme.slice(0, start + START_MARKER.length)}\n${block}\n${readme.slice(end)}`;
  }
  const prefix = readme.length === 0 ? "" : readme.endsWith("\n") ? `${readme}\n` : `${readme}\n\n`;
  return `${prefix}## Benchmarks\n\n${START_MARKER}\n${block}\n${END_MARKER}\n`;
}

function rank(order: readonly string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}
