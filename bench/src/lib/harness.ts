import type { CaseHandle, RunSample } from "./case-handle.js";
import { inWorker } from "./case-worker-client.js";
import type { BenchConfig } from "./config.js";
import { fullGc } from "./gc.js";
import { median, percentileOfSorted } from "./stats.js";
import type { Target } from "./targets.js";
import { RatioKind, type Row, type RowRole } from "./types.js";

/** A ready-to-run load: `concurrency` callers each awaiting `op` in a closed loop. */
export interface Workload {
  readonly concurrency: number;
  /** One call by caller `worker` (0 ≤ worker < concurrency). */
  op(worker: number): Promise<unknown>;
  /** Operations one call performs (a 100-row transaction counts 100). @default 1 */
  readonly opsPerCall?: number;
  /**
   * Time one call in this many. Reading the clock costs ~30–50 ns, as much as the fastest calls
   * themselves, so rows faster than ~1 µs sample; the others time every call. @default 1
   */
  readonly sampleEvery?: number;
  /** Untimed preparation before each run (e.g. a fresh in-memory store so memory does not pile up). */
  reset?(): Promise<void>;
  /**
   * Counters read just before and just after each measured run, outside its timed window (CPU
   * time of every process involved, calls forwarded, ...): the row reports how much each grew per
   * operation (`Row.perOp`, median over runs) and, against a baseline that reads the same counter,
   * the median of the per-round ratios (`Row.perOpRatio`).
   */
  counters?(): Promise<Record<string, number>>;
  /** Figures to report after the runs (commit statistics, verification results...). */
  extra?(): Promise<Record<string, number | string | boolean>> | Record<string, number | string | boolean>;
  teardown?(): Promise<void>;
}

/** One row of a scenario: how to set up its workload and what to compare it with. */
export interface CaseSpec {
  readonly name: string;
  readonly role: RowRole;
  /** The row (in the same scenario) this one is compared with. */
  readonly baseline?: string;
  /** @default throughput */
  readonly ratioKind?: RatioKind;
  readonly targets?: readonly Target[];
  setup(): Promise<Workload>;
}

/** Runs `workload` for `durationMs` (or `maxOps` operations, whichever comes first). */
export async function timeRun(workload: Workload, durationMs: number, maxOps: number): Promise<RunSample> {
  const sampleEvery = workload.sampleEvery ?? 1;
  const opsPerCall = workload.opsPerCall ?? 1;
  const maxCalls = Math.max(1, Math.ceil(maxOps / opsPerCall));
  const samples: number[] = [];
  let calls = 0;
  let stop = false;
  const before = await workload.counters?.();
  const start = performance.now();
  const deadline = start + durationMs;
  const caller = async (worker: number): Promise<void> => {
    for (let n = 0; !stop; n++) {
      if (n % sampleEvery === 0) {
        const t0 = performance.now();
        await workload.op(worker);
        const t1 = performance.now();
        samples.push(t1 - t0);
        if (t1 >= deadline) stop = true;
      } else {
        await workload.op(worker);
      }
      if (++calls >= maxCalls) stop = true;
    }
  };
  await Promise.all(Array.from({ length: workload.concurrency }, (_, worker) => caller(worker)));
  const elapsedMs = performance.now() - start;
  const after = before === undefined ? undefined : await workload.counters?.();
  const sorted = Float64Array.from(samples).sort();
  const ops = calls * opsPerCall;
  return {
    opsPerSec: (ops / elapsedMs) * 1000,
    p50Ms: percentileOfSorted(sorted, 50),
    p99Ms: percentileOfSorted(sorted, 99),
    ops,
    elapsedMs,
    ...(before && after ? { perOp: perOpGrowth(before, after, ops) } : {}),
  };
}

function perOpGrowth(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
  ops: number,
): Record<string, number> {
  const perOp: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) perOp[key] = (value - (before[key] ?? 0)) / Math.max(1, ops);
  return perOp;
}

function inThread(workload: Workload): CaseHandle {
  return {
    reset: async () => workload.reset?.(),
    run: (durationMs, maxOps) => {
      fullGc();
      return timeRun(workload, durationMs, maxOps);
    },
    extra: async () => workload.extra?.(),
    teardown: async () => workload.teardown?.(),
  };
}

/**
 * Sets every case up, warms each up, then measures `config.runs` rounds. Within a round every case
 * runs once, back to back (the starting case rotates), so a baseline and its subject always see
 * the same machine load; a row's ratio is the median of its per-round ratios.
 *
 * With `config.isolate`, each case lives in a worker thread of its own (see case-worker.ts), built
 * again there from `scenario` and `context`: no case pays for another's heap, JIT feedback or
 * async hooks (an OpenTelemetry context manager turns on promise hooks for the whole isolate on
 * Node 20, which would slow a bare baseline or a peer measured in the same isolate). Only one case runs at
 * a time either way.
 */
export async function runCases(
  scenario: string,
  all: readonly CaseSpec[],
  config: BenchConfig,
  context: unknown = {},
): Promise<Row[]> {
  const handles: CaseHandle[] = [];
  // BENCH_ONLY: measure only the rows whose name contains it (for profiling one row).
  const cases = config.only === undefined ? all : all.filter((c) => c.name.includes(config.only as string));
  try {
    for (const spec of cases) {
      const index = all.indexOf(spec);
      handles.push(
        config.isolate ? await inWorker({ scenario, caseIndex: index, config, context }) : inThread(await spec.setup()),
      );
    }
    if (config.warmupMs > 0) {
      for (const handle of handles) {
        await handle.reset();
        await handle.run(config.warmupMs, config.maxOps);
      }
    }
    const samples: RunSample[][] = cases.map(() => []);
    for (let round = 0; round < config.runs; round++) {
      for (let k = 0; k < cases.length; k++) {
        const i = (round + k) % cases.length;
        const handle = handles[i] as CaseHandle;
        await handle.reset();
        (samples[i] as RunSample[]).push(await handle.run(config.durationMs, config.maxOps));
      }
    }
    const rows: Row[] = [];
    for (const [i, spec] of cases.entries()) {
      rows.push(toRow(spec, samples, cases, await handles[i]?.extra()));
    }
    return rows;
  } finally {
    for (const handle of handles.reverse()) await handle.teardown();
  }
}

function toRow(
  spec: CaseSpec,
  samples: readonly RunSample[][],
  cases: readonly CaseSpec[],
  extra: Record<string, number | string | boolean> | undefined,
): Row {
  const own = samples[cases.indexOf(spec)] as RunSample[];
  const baselineIndex = spec.baseline === undefined ? -1 : cases.findIndex((c) => c.name === spec.baseline);
  const ratioKind = spec.ratioKind ?? RatioKind.Throughput;
  let ratio: number | undefined;
  let p50Ratio: number | undefined;
  let perOpRatio: Record<string, number> | undefined;
  if (baselineIndex >= 0 && (samples[baselineIndex] as RunSample[]).length > 0) {
    const base = samples[baselineIndex] as RunSample[];
    ratio = median(own.map((s, r) => s.opsPerSec / (base[r] as RunSample).opsPerSec));
    p50Ratio = median(own.map((s, r) => s.p50Ms / (base[r] as RunSample).p50Ms));
    perOpRatio = perOpRatios(own, base);
  }
  const perOp = medianPerOp(own);
  const row: Row = {
    name: spec.name,
    role: spec.role,
    opsPerSec: median(own.map((s) => s.opsPerSec)),
    p50Ms: median(own.map((s) => s.p50Ms)),
    p99Ms: median(own.map((s) => s.p99Ms)),
    ...(spec.baseline === undefined || ratio === undefined
      ? {}
      : { baseline: spec.baseline, ratio: ratio as number, p50Ratio: p50Ratio as number, ratioKind }),
    targets: [],
    runs: own.map((s) => Math.round(s.opsPerSec)),
    ...(perOp ? { perOp } : {}),
    ...(perOpRatio ? { perOpRatio } : {}),
    ...(extra ? { extra } : {}),
  };
  return { ...row, targets: (spec.targets ?? []).map((t) => t.check(row)) };
}

/** Median over the runs of each per-operation counter; undefined when the workload has none. */
function medianPerOp(own: readonly RunSample[]): Record<string, number> | undefined {
  const first = own[0]?.perOp;
  if (first === undefined) return undefined;
  const perOp: Record<string, number> = {};
  for (const key of Object.keys(first)) perOp[key] = median(own.map((s) => s.perOp?.[key] ?? Number.NaN));
  return perOp;
}

/** Per counter both sides read: the median of the per-round ratios (rounds where the baseline's is > 0). */
function perOpRatios(own: readonly RunSample[], base: readonly RunSample[]): Record<string, number> | undefined {
  const first = own[0]?.perOp;
  if (first === undefined || base[0]?.perOp === undefined) return undefined;
  const ratios: Record<string, number> = {};
  for (const key of Object.keys(first)) {
    const perRound = own
      .map((s, r) => (s.perOp?.[key] ?? Number.NaN) / (base[r]?.perOp?.[key] ?? Number.NaN))
      .filter((value) => Number.isFinite(value));
    if (perRound.length > 0) ratios[key] = median(perRound);
  }
  return ratios;
}
