import type { ActorRef } from "@granary/core";
import { PostgresEventStore, PostgresSnapshotStore } from "@granary/postgres";
import { startPostgresServer } from "@granary/testing";
import pg from "pg";
import { Ledger } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { createRawPostgresTable, multiRowInsert, RAW_PG_SCHEMA, rowParams } from "../lib/raw-postgres.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import { minShareOfBaseline } from "../lib/targets.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "es-postgres";
const TITLE = "Event-sourced command, PostgresEventStore (fsync on, synchronous_commit on)";
const RAW_BATCH = 100;
/** The Granary store's default pool size, used by the per-event design too. */
const POOL_SIZE = 10;

interface Context {
  readonly url: string;
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const { storeActors: actors, storeCallers: callers } = config;
  let ids = 0;
  const nextId = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${ids++}`;
  const rawMultiRow: CaseSpec["setup"] = async () => {
    const client = new pg.Client({ connectionString: context.url });
    client.on("error", () => {});
    await client.connect();
    const sql = multiRowInsert(RAW_BATCH);
    const versions = new Array<number>(actors).fill(0);
    const random = randomInts(23);
    const stream = `m-${process.pid}-${Date.now()}`;
    return {
      concurrency: 1,
      opsPerCall: RAW_BATCH,
      op: async () => {
        const params: unknown[] = [];
        for (let i = 0; i < RAW_BATCH; i++) {
          const actor = random(actors);
          const version = (versions[actor] as number) + 1;
          versions[actor] = version;
          params.push(...rowParams(nextId("m"), `${stream}/${actor}`, version));
        }
        await client.query(sql, params);
      },
      teardown: () => client.end(),
    };
  };
  const rawPerEvent: CaseSpec["setup"] = async () => {
    const pool = new pg.Pool({ connectionString: context.url, max: POOL_SIZE });
    // The server is stopped after the cases; an idle connection it terminates must not crash the run.
    pool.on("error", () => {});
    const sql = multiRowInsert(1);
    const versions = new Array<number>(actors).fill(0);
    const random = randomInts(29);
    const stream = `e-${process.pid}-${Date.now()}`;
    return {
      concurrency: callers,
      op: async () => {
        const actor = random(actors);
        const version = (versions[actor] as number) + 1;
        versions[actor] = version;
        await pool.query(sql, rowParams(nextId("e"), `${stream}/${actor}`, version));
      },
      teardown: () => pool.end(),
    };
  };
  const granary: CaseSpec["setup"] = async () => {
    const namespace = `bench-${process.pid}-${Date.now()}`;
    const store = new PostgresEventStore({ connectionString: context.url, namespace, poolSize: POOL_SIZE });
    const snapshots = new PostgresSnapshotStore({ connectionString: context.url, namespace, poolSize: 2 });
    const silo = await startBenchSilo({ actors: [Ledger], store, snapshots });
    const refs: ActorRef<Ledger>[] = Array.from({ length: actors }, (_, i) => silo.get(Ledger, `p-${i}`));
    await Promise.all(refs.map((ref) => ref.balance()));
    const random = randomInts(31);
    return {
      concurrency: callers,
      op: () => (refs[random(actors)] as ActorRef<Ledger>).deposit(1),
      teardown: async () => {
        await silo.stop();
        await store.close();
        await snapshots.close();
      },
    };
  };
  const load = `${actors} actors × ${callers} callers`;
  return [
    { name: `raw multi-row INSERT, ${RAW_BATCH} rows per statement`, role: "baseline", setup: rawMultiRow },
    { name: `per-event INSERT design, ${callers} callers, pool ${POOL_SIZE}`, role: "baseline", setup: rawPerEvent },
    {
      name: `granary, ${load}`,
      role: "granary",
      baseline: `raw multi-row INSERT, ${RAW_BATCH} rows per statement`,
      targets: [minShareOfBaseline(0.5, "raw multi-row")],
      setup: granary,
    },
    {
      name: `granary vs per-event design, ${load}`,
      role: "granary",
      baseline: `per-event INSERT design, ${callers} callers, pool ${POOL_SIZE}`,
      targets: [minShareOfBaseline(3, "the per-event design")],
      setup: granary,
    },
  ];
}

/**
 * 1,000 actors × 100 callers on PostgreSQL against a raw multi-row INSERT (same table shape and
 * unique constraints) and the naive design of one INSERT transaction per event.
 */
export const esPostgres: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const server = await startPostgresServer({ fsync: true });
    try {
      await createRawPostgresTable(server.url);
      const context: Context = { url: server.url };
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: await runCases(NAME, cases(config, context), config, context),
        settings: {
          actors: config.storeActors,
          callers: config.storeCallers,
          server: "throwaway local PostgreSQL (startPostgresServer) with fsync=on, synchronous_commit=on",
          granaryPoolSize: POOL_SIZE,
          rawBatch: RAW_BATCH,
          rawSchema: RAW_PG_SCHEMA,
        },
        notes: [
          "Baselines: a multi-row INSERT of 100 rows like Granary's (same columns, unique constraints, feed index) from one connection — what batching can reach — and one single-row INSERT transaction per event from 100 callers over a pool of 10 — the naive design. The two granary rows are the same workload measured twice, once against each baseline.",
        ],
      };
    } finally {
      await server.stop();
    }
  },
};
