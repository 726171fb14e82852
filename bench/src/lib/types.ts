/** What a row of a scenario is: the raw baseline, Granary itself, or a peer library. */
export const RowRole = {
  Baseline: "baseline",
  Granary: "granary",
  Peer: "peer",
} as const;
export type RowRole = (typeof RowRole)[keyof typeof RowRole];

/** How a row compares with its baseline: by throughput (higher is better) or by latency (lower is better). */
export const RatioKind = {
  Throughput: "throughput",
  Latency: "latency",
} as const;
export type RatioKind = (typeof RatioKind)[keyof typeof RatioKind];

export interface TargetResult {
  /** The target as the issue states it, e.g. "≥ 1M calls/s". */
  readonly label: string;
  readonly met: boolean;
  /** The measured value the target was checked against, formatted. */
  readonly actual: string;
}

/** One measured line of a scenario's table. Numbers are medians over the measured runs. */
export interface Row {
  readonly name: string;
  readonly role: RowRole;
  /** Operations per second (median of runs); undefined for rows that measure something else. */
  readonly opsPerSec?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** Name of the row this one is compared with. */
  readonly baseline?: string;
  /** This row's ops/s ÷ the baseline's (0.5 = half the raw rate); median of per-round ratios. */
  readonly ratio?: number;
  /** This row's p50 ÷ the baseline's (2 = twice the raw time); median of per-round ratios. */
  readonly p50Ratio?: number;
  /** Which ratio the table shows. */
  readonly ratioKind?: RatioKind;
  readonly targets: readonly TargetResult[];
  /** How much each counter of the workload grew per operation (CPU µs, calls forwarded...), median of runs. */
  readonly perOp?: Readonly<Record<string, number>>;
  /** Per counter the baseline reads too: this row's per-operation growth ÷ the baseline's, median of per-round ratios. */
  readonly perOpRatio?: Readonly<Record<string, number>>;
  /** Scenario-specific figures (bytes per activation, appends per transaction, ...). */
  readonly extra?: Readonly<Record<string, number | string | boolean>>;
  /** Set when this row cannot be measured (yet): why. Such a row carries no numbers. */
  readonly unavailable?: string;
  /** Every run's ops/s, to show the spread. */
  readonly runs?: readonly number[];
}

export type ScenarioStatus = "ok" | "unavailable" | "failed";

export interface ScenarioResult {
  readonly scenario: string;
  readonly title: string;
  readonly status: ScenarioStatus;
  /** Why the scenario did not run (not available yet, cannot install, ...). */
  readonly reason?: string;
  readonly rows: readonly Row[];
  /** What was measured and how: sizes, concurrency, durability settings. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly notes: readonly string[];
}
