import { describe, expect, it } from "vitest";
import { smokeConfig } from "./lib/config.js";
import { END_MARKER, renderBenchmarks, START_MARKER, spliceReadme } from "./lib/markdown.js";
import type { ResultFile } from "./lib/results.js";
import type { ScenarioResult } from "./lib/types.js";
import { SCENARIOS } from "./scenarios/index.js";

// Every scenario end to end with a budget of a few hundred operations, so the benchmarks never
// rot. Nothing here asserts a timing: on a shared 2-core machine timings are not facts.
describe("benchmarks smoke run", () => {
  const config = smokeConfig();
  for (const scenario of SCENARIOS) {
    it(
      `${scenario.name} - runs with a tiny budget and reports rows or why it cannot run`,
      async () => {
        const result: ScenarioResult = await scenario.run(config);
        expect(result.scenario).toBe(scenario.name);
        expect(result.status).not.toBe("failed");
        if (result.status === "unavailable") {
          expect(result.reason).toBeTruthy();
          expect(result.rows).toEqual([]);
          return;
        }
        expect(result.rows.length).toBeGreaterThan(0);
        for (const row of result.rows) {
          if (row.unavailable !== undefined) continue;
          // A row measures ops/s, or something else it states in extra.summary (bytes, round trips).
          expect(row.opsPerSec !== undefined || typeof row.extra?.summary === "string", row.name).toBe(true);
          if (row.opsPerSec !== undefined) expect(row.opsPerSec, row.name).toBeGreaterThan(0);
          if (row.baseline !== undefined) expect(result.rows.some((r) => r.name === row.baseline)).toBe(true);
        }
        const durable = result.rows.find((r) => r.extra?.everyAcknowledgedEventDurable !== undefined);
        if (durable) expect(durable.extra?.everyAcknowledgedEventDurable).toBe(true);
      },
      scenario.smokeTimeoutMs,
    );
  }
});

describe("bench:report", () => {
  const result: ResultFile = {
    scenario: "local-call",
    title: "Local call",
    status: "ok",
    rows: [
      { name: "bare", role: "baseline", opsPerSec: 2_000_000, p50Ms: 0.0004, p99Ms: 0.001, targets: [] },
      {
        name: "granary",
        role: "granary",
        opsPerSec: 500_000,
        p50Ms: 0.002,
        p99Ms: 0.01,
        baseline: "bare",
        ratio: 0.25,
        ratioKind: "throughput",
        targets: [{ label: "≥ 1M calls/s", met: false, actual: "500k" }],
      },
    ],
    settings: {},
    notes: [],
    measuredAt: "2026-01-01T00:00:00.000Z",
    machine: { cpuModel: "cpu", cores: 2, memoryGiB: 24, os: "Linux", node: "v20", v8: "11", loadAverage: [0.5] },
    loadAverageAfter: [0.5],
    config: smokeConfig(),
    command: "pnpm bench local-call",
  };
  const block = renderBenchmarks([result], ["local-call"]);

  it("report - replaces only the text between the markers", () => {
    const readme = `# Granary\n\nintro\n\n## Benchmarks\n\n${START_MARKER}\nold table\n${END_MARKER}\n\n## After\n`;
    const updated = spliceReadme(readme, block);
    expect(updated.startsWith("# Granary\n\nintro\n\n## Benchmarks\n\n")).toBe(true);
    expect(updated.endsWith(`${END_MARKER}\n\n## After\n`)).toBe(true);
    expect(updated).not.toContain("old table");
    expect(updated).toContain("| local-call | granary | 500.0k |");
    expect(spliceReadme(updated, block)).toBe(updated);
  });

  it("report - appends a Benchmarks section when the markers are missing", () => {
    expect(spliceReadme("# Granary\n", block)).toBe(
      `# Granary\n\n## Benchmarks\n\n${START_MARKER}\n${block}\n${END_MARKER}\n`,
    );
    expect(spliceReadme("", block).startsWith("## Benchmarks")).toBe(true);
  });
});
