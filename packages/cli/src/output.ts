import type { Writable } from "node:stream";

/** Where a command writes, and how: JSON for machines (`--json`), tables for a person. */
export interface Output {
  readonly json: boolean;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Writes `value` as JSON, or as a table of `columns` for each row. */
export function printRows<T>(
  out: Output,
  value: readonly T[],
  columns: readonly (readonly [header: string, cell: (row: T) => unknown])[],
  empty = "(none)",
): void {
  if (out.json) {
    out.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  if (value.length === 0) {
    out.stdout.write(`${empty}\n`);
    return;
  }
  const cells = value.map((row) => columns.map(([, cell]) => text(cell(row))));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((row) => (row[i] ?? "").length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  out.stdout.write(`${line(columns.map(([header]) => header.toUpperCase()))}\n`);
  for (const row of cells) out.stdout.write(`${line(row)}\n`);
}

/** Writes `value` as JSON, or as `label: value` lines (objects nested as JSON). */
export function printRecord(out: Output, value: Record<string, unknown>): void {
  if (out.json) {
    out.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  for (const [key, field] of Object.entries(value)) {
    const shown = typeof field === "object" && field !== null ? JSON.stringify(field, null, 2) : text(field);
    out.stdout.write(`${`${key}:`.padEnd(width + 2)}${shown.replaceAll("\n", `\n${" ".repeat(width + 2)}`)}\n`);
  }
}

function text(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
