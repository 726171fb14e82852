/** What one measured run of a case yields. */
export interface RunSample {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ops: number;
  readonly elapsedMs: number;
  /** Each counter's growth during the run ÷ ops (see Workload.counters). */
  readonly perOp?: Readonly<Record<string, number>>;
}

/** A case being measured, in this thread or in a worker thread of its own. */
export interface CaseHandle {
  reset(): Promise<void>;
  run(durationMs: number, maxOps: number): Promise<RunSample>;
  extra(): Promise<Record<string, number | string | boolean> | undefined>;
  teardown(): Promise<void>;
}
