import { formatOps } from "./format.js";
import type { Row, TargetResult } from "./types.js";

/** A target from the issue, checked against a measured row. */
export interface Target {
  readonly label: string;
  check(row: Row): TargetResult;
}

const result = (label: string, met: boolean, actual: string): TargetResult => ({ label, met, actual });
const missing = (label: string): TargetResult => result(label, false, "not measured");

/** At least `min` operations per second. */
export function minOpsPerSec(min: number, unit = "ops/s"): Target {
  const label = `≥ ${formatOps(min)} ${unit}`;
  return {
    label,
    check: (row) =>
      row.opsPerSec === undefined ? missing(label) : result(label, row.opsPerSec >= min, formatOps(row.opsPerSec)),
  };
}

/** Throughput at least `fraction` of the baseline's. */
export function minShareOfBaseline(fraction: number, of = "raw"): Target {
  const label = `≥ ${Math.round(fraction * 100)}% of ${of}`;
  return {
    label,
    check: (row) =>
      row.ratio === undefined ? missing(label) : result(label, row.ratio >= fraction, `${pct(row.ratio)}`),
  };
}

/** Cost per operation at most `factor` times the baseline's (throughput ratio ≥ 1 / factor). */
export function maxCostFactor(factor: number, of = "baseline"): Target {
  const label = `≤ ${factor}× ${of} cost`;
  return {
    label,
    check: (row) =>
      row.ratio === undefined
        ? missing(label)
        : result(label, row.ratio >= 1 / factor, `${(1 / row.ratio).toFixed(2)}× cost`),
  };
}

/**
 * Time per operation added over the baseline at most `micros` µs: 1/ops − 1/baseline ops, from the
 * row's median ops/s and its median per-round ratio (baseline ops = ops ÷ ratio). With N callers
 * on one event loop, 1/ops/s is the loop time one operation costs.
 */
export function maxAddedMicros(micros: number, per = "operation"): Target {
  const label = `≤ ${micros} µs per ${per} over the baseline`;
  return {
    label,
    check: (row) => {
      if (row.ratio === undefined || row.opsPerSec === undefined) return missing(label);
      const added = addedMicros(row.opsPerSec, row.ratio);
      return result(label, added <= micros, `${added.toFixed(2)} µs`);
    },
  };
}

/** Microseconds per operation a row adds over its baseline (see {@link maxAddedMicros}). */
export function addedMicros(opsPerSec: number, ratio: number): number {
  return ((1 - ratio) / opsPerSec) * 1e6;
}

/** Latency (p50) at most `factor` times the baseline's. */
export function maxLatencyFactor(factor: number, of = "raw"): Target {
  const label = `p50 ≤ ${factor}× ${of}`;
  return {
    label,
    check: (row) =>
      row.p50Ratio === undefined
        ? missing(label)
        : result(label, row.p50Ratio <= factor, `${row.p50Ratio.toFixed(2)}×`),
  };
}

/** p50 at most `ms` milliseconds. */
export function maxP50Ms(ms: number): Target {
  const label = `p50 ≤ ${ms} ms`;
  return {
    label,
    check: (row) =>
      row.p50Ms === undefined ? missing(label) : result(label, row.p50Ms <= ms, `${row.p50Ms.toFixed(3)} ms`),
  };
}

/** A figure in `extra` at most `max` (e.g. bytes per activation). */
export function maxExtra(key: string, max: number, label: string, format: (v: number) => string): Target {
  return {
    label,
    check: (row) => {
      const value = row.extra?.[key];
      return typeof value === "number" ? result(label, value <= max, format(value)) : missing(label);
    },
  };
}

/** A counter's growth per operation (see Workload.counters) at most `max`, e.g. the share of calls forwarded. */
export function maxPerOp(key: string, max: number, label: string, format: (v: number) => string): Target {
  return {
    label,
    check: (row) => {
      const value = row.perOp?.[key];
      return value === undefined ? missing(label) : result(label, value <= max, format(value));
    },
  };
}

/** A counter's growth per operation at most `factor` times the baseline's (median of per-round ratios). */
export function maxPerOpRatio(key: string, factor: number, label: string): Target {
  return {
    label,
    check: (row) => {
      const value = row.perOpRatio?.[key];
      return value === undefined ? missing(label) : result(label, value <= factor, `${value.toFixed(2)}×`);
    },
  };
}

/** Overhead over the baseline (1 - throughput ratio) at most `fraction`. */
export function maxOverhead(fraction: number): Target {
  const label = `≤ ${Math.round(fraction * 100)}% overhead`;
  return {
    label,
    check: (row) =>
      row.ratio === undefined ? missing(label) : result(label, 1 - row.ratio <= fraction, pct(1 - row.ratio)),
  };
}

function pct(value: number): string {
  return `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;
}
