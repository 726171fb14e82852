import type { Row, ScenarioResult } from "./types.js";

/** 1234567 → "1.23M", 45678 → "45.7k", 950 → "950". */
export function formatOps(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(2)}k`;
  return value.toFixed(value >= 100 ? 0 : 1);
}

/** Milliseconds with a precision that suits the magnitude: 0.00042 → "0.4 µs", 1.234 → "1.23 ms". */
export function formatMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  if (value < 0.01) return `${(value * 1000).toFixed(2)} µs`;
  if (value < 1) return `${(value * 1000).toFixed(0)} µs`;
  if (value < 100) return `${value.toFixed(2)} ms`;
  return `${value.toFixed(0)} ms`;
}

export function formatBytes(value: number): string {
  if (Math.abs(value) >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MiB`;
  if (Math.abs(value) >= 4096) return `${(value / 1024).toFixed(1)} KiB`;
  return `${Math.round(value)} B`;
}

/** "31% of raw ops/s" or "1.80× raw time". */
export function formatRatio(row: Row): string {
  if (row.ratio === undefined || !row.baseline) return row.role === "baseline" ? "baseline" : "";
  if (row.ratioKind === "latency") return `p50 ${(row.p50Ratio ?? Number.NaN).toFixed(2)}× ${row.baseline}`;
  const share = row.ratio * 100;
  return `${share >= 10 ? share.toFixed(0) : share.toFixed(1)}% of ${row.baseline}`;
}

export function formatTargets(row: Row): string {
  return row.targets.map((t) => `${t.met ? "✓" : "✗"} ${t.label} (${t.actual})`).join("; ");
}

export const TABLE_HEADER = ["row", "ops/s", "p50", "p99", "vs baseline", "targets"] as const;

export function rowCells(row: Row): string[] {
  if (row.unavailable !== undefined) {
    return [
      row.name,
      "–",
      "–",
      "–",
      `not available yet: ${row.unavailable}`,
      row.targets.map((t) => t.label).join("; "),
    ];
  }
  const extra = row.extra?.summary;
  return [
    row.name,
    row.opsPerSec === undefined ? (typeof extra === "string" ? extra : "–") : formatOps(row.opsPerSec),
    formatMs(row.p50Ms),
    formatMs(row.p99Ms),
    formatRatio(row),
    formatTargets(row),
  ];
}

/** A plain-text table for the terminal. */
export function textTable(result: ScenarioResult): string {
  const lines = [`## ${result.scenario}: ${result.title}`];
  if (result.status !== "ok") {
    lines.push(`   ${result.status === "unavailable" ? "not available yet" : "FAILED"}: ${result.reason ?? ""}`);
    return lines.join("\n");
  }
  const cells = [[...TABLE_HEADER], ...result.rows.map(rowCells)];
  const widths = TABLE_HEADER.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  for (const [n, row] of cells.entries()) {
    lines.push(
      row
        .map((cell, i) =>
          i === 0 || i === row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
        )
        .join("  "),
    );
    if (n === 0) lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  }
  for (const note of result.notes) lines.push(`   note: ${note}`);
  return lines.join("\n");
}
