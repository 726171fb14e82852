/**
 * Benchmark knobs, read from environment variables. Every scenario takes its sizes from here, so
 * the smoke test can run the whole suite with a tiny budget.
 */
export interface BenchConfig {
  /** Length of one measured run. (BENCH_DURATION_MS) @default 1000 */
  readonly durationMs: number;
  /** Warm-up before the measured runs (JIT, caches, activations). (BENCH_WARMUP_MS) @default 500 */
  readonly warmupMs: number;
  /** Measured runs per row; the table shows medians. (BENCH_RUNS) @default 5 */
  readonly runs: number;
  /** Stop a run after this many operations even if its time is not up. (BENCH_MAX_OPS) @default unlimited */
  readonly maxOps: number;
  /** Actors called in the "under load" local-call and memory-store rows. (BENCH_ACTORS) @default 10000 */
  readonly actors: number;
  /** Concurrent callers in the "under load" in-memory rows. (BENCH_CONCURRENCY) @default 1000 */
  readonly concurrency: number;
  /** Actors of the durable-store rows. (BENCH_STORE_ACTORS) @default 1000 */
  readonly storeActors: number;
  /** Concurrent callers of the durable-store rows. (BENCH_STORE_CALLERS) @default 100 */
  readonly storeCallers: number;
  /** Streams prepared per cold-activation row (re-activated in turn). (BENCH_COLD_STREAMS) @default 200 */
  readonly coldStreams: number;
  /** Activations of the memory scenario. (BENCH_ACTIVATIONS) @default 100000 */
  readonly activations: number;
  /** In-flight calls of the cross-silo rows. (BENCH_IN_FLIGHT, comma-separated) @default 1,16,256 */
  readonly inFlight: readonly number[];
  /**
   * Run each case in a worker thread of its own, so baselines and peers do not pay for Granary's
   * async hooks, heap or JIT state. (BENCH_ISOLATE=0 to turn off) @default true (false in the smoke test)
   */
  readonly isolate: boolean;
  /** Tiny-budget mode of the smoke test: scenarios shrink fixed sizes (events per stream...). */
  readonly smoke: boolean;
  /** Measure only the rows whose name contains this text, e.g. to profile one row. (BENCH_ONLY) */
  readonly only: string | undefined;
  /** Folder for databases and temporary files. (BENCH_TMP) @default the OS temp folder */
  readonly tmpDir: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

export function benchConfig(env: Env = process.env, overrides: Partial<BenchConfig> = {}): BenchConfig {
  return {
    durationMs: int(env, "BENCH_DURATION_MS", 1_000),
    warmupMs: int(env, "BENCH_WARMUP_MS", 500, 0),
    runs: int(env, "BENCH_RUNS", 5),
    maxOps: int(env, "BENCH_MAX_OPS", Number.MAX_SAFE_INTEGER),
    actors: int(env, "BENCH_ACTORS", 10_000),
    concurrency: int(env, "BENCH_CONCURRENCY", 1_000),
    storeActors: int(env, "BENCH_STORE_ACTORS", 1_000),
    storeCallers: int(env, "BENCH_STORE_CALLERS", 100),
    coldStreams: int(env, "BENCH_COLD_STREAMS", 200),
    activations: int(env, "BENCH_ACTIVATIONS", 100_000),
    inFlight: (env.BENCH_IN_FLIGHT ?? "1,16,256").split(",").map((v) => positive("BENCH_IN_FLIGHT", v)),
    isolate: env.BENCH_ISOLATE !== "0",
    smoke: env.BENCH_SMOKE === "1",
    only: env.BENCH_ONLY || undefined,
    tmpDir: env.BENCH_TMP || undefined,
    ...overrides,
  };
}

/** The smoke test's budget: every scenario runs end to end in well under a second or two. */
export function smokeConfig(overrides: Partial<BenchConfig> = {}): BenchConfig {
  return benchConfig(
    {},
    {
      durationMs: 40,
      warmupMs: 0,
      runs: 1,
      maxOps: 300,
      actors: 100,
      concurrency: 20,
      storeActors: 20,
      storeCallers: 10,
      coldStreams: 5,
      activations: 500,
      inFlight: [1, 4],
      isolate: false,
      smoke: true,
      ...overrides,
    },
  );
}

function int(env: Env, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function positive(name: string, raw: string): number {
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must list positive integers, got "${raw}"`);
  return value;
}
