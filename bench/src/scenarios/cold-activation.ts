import { join } from "node:path";
import { type EventEnvelope, type EventStore, ManualClock, type SnapshotStore } from "@granary/core";
import { PostgresEventStore, PostgresSnapshotStore } from "@granary/postgres";
import type { Silo } from "@granary/runtime";
import { SqliteEventStore, SqliteSnapshotStore } from "@granary/sqlite";
import { startPostgresServer } from "@granary/testing";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { applyLedger, ColdLedger, INITIAL_LEDGER, type LedgerState } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases, type Workload } from "../lib/harness.js";
import type { Scenario } from "../lib/scenario.js";
import { startBenchSilo } from "../lib/silo.js";
import { maxLatencyFactor, maxP50Ms } from "../lib/targets.js";
import { scratchDir } from "../lib/tmp.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "cold-activation";
const TITLE = "Cold activation (rehydration) vs raw read + decode, SQLite and PostgreSQL";
const SNAPSHOT_AT = 100;
const AFTER_SNAPSHOT = 100;
const LONG_HISTORY = 1_000;

interface EventRow {
  readonly version: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

function envelopes(stream: string, from: number, count: number): EventEnvelope[] {
  const metadata = { correlationId: "bench", causationId: "bench", commandId: "bench" };
  const timestamp = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => ({
    id: `${stream}#${from + i}`,
    type: "Deposited",
    stream,
    version: from + i,
    schemaVersion: 1,
    data: { amount: 1 },
    metadata,
    timestamp,
  }));
}

interface Context {
  readonly path: string;
  readonly pgUrl: string;
}

const PG_NAMESPACE = "bench-cold";

function idsOf(config: BenchConfig): { snapIds: string[]; longIds: string[] } {
  const streams = config.coldStreams;
  return {
    snapIds: Array.from({ length: streams }, (_, i) => `snap-${i}`),
    longIds: Array.from({ length: streams }, (_, i) => `long-${i}`),
  };
}

const streamOf = (id: string) => `${ColdLedger.type}/${id}`;

/** Writes the histories through the store, as Granary writes them, and the snapshots. */
async function prepare(config: BenchConfig, store: EventStore, snapshots: SnapshotStore): Promise<void> {
  const { snapIds, longIds } = idsOf(config);
  try {
    const writes: Promise<unknown>[] = [];
    for (const id of snapIds) {
      writes.push(store.append(streamOf(id), 0, envelopes(streamOf(id), 1, SNAPSHOT_AT + AFTER_SNAPSHOT)));
    }
    for (const id of longIds) writes.push(store.append(streamOf(id), 0, envelopes(streamOf(id), 1, LONG_HISTORY)));
    await Promise.all(writes);
    let snapshotState: LedgerState = INITIAL_LEDGER;
    for (let v = 1; v <= SNAPSHOT_AT; v++) snapshotState = applyLedger(snapshotState, { type: "Deposited", amount: 1 });
    const timestamp = new Date().toISOString();
    for (const id of snapIds) {
      await snapshots.save({
        stream: streamOf(id),
        version: SNAPSHOT_AT,
        snapshotVersion: 1,
        state: { ...snapshotState },
        timestamp,
      });
    }
  } finally {
    await store.close();
    await snapshots.close();
  }
}

function openStores(backend: "sqlite" | "postgres", context: Context): { store: EventStore; snapshots: SnapshotStore } {
  if (backend === "sqlite") {
    return {
      store: new SqliteEventStore({ path: context.path, synchronous: "FULL" }),
      snapshots: new SqliteSnapshotStore({ path: context.path, synchronous: "FULL" }),
    };
  }
  return {
    store: new PostgresEventStore({ connectionString: context.pgUrl, namespace: PG_NAMESPACE, poolSize: 2 }),
    snapshots: new PostgresSnapshotStore({ connectionString: context.pgUrl, namespace: PG_NAMESPACE, poolSize: 2 }),
  };
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const { path } = context;
  const { snapIds, longIds } = idsOf(config);
  const raw = (ids: readonly string[], withSnapshot: boolean): CaseSpec["setup"] => {
    return async () => {
      const db = new BetterSqlite3(path, { readonly: true });
      const snapshotQuery = db.prepare<[string, string], { version: number; state: string }>(
        "SELECT version, state FROM snapshots WHERE namespace = ? AND stream = ? ORDER BY version DESC LIMIT 1",
      );
      const eventsQuery = db.prepare<[string, string, number], EventRow>(
        "SELECT version, type, data, metadata FROM events WHERE namespace = ? AND stream = ? AND version >= ? ORDER BY version",
      );
      let next = 0;
      return {
        concurrency: 1,
        op: async () => {
          const stream = streamOf(ids[next++ % ids.length] as string);
          let state = INITIAL_LEDGER;
          let version = 0;
          if (withSnapshot) {
            const row = snapshotQuery.get("default", stream);
            if (row) {
              state = JSON.parse(row.state) as LedgerState;
              version = row.version;
            }
          }
          for (const row of eventsQuery.all("default", stream, version + 1)) {
            const data = JSON.parse(row.data) as { amount: number };
            JSON.parse(row.metadata);
            state = applyLedger(state, { type: "Deposited", amount: data.amount });
            version = row.version;
          }
          return state.balance;
        },
        teardown: async () => void db.close(),
      };
    };
  };
  const granary = (ids: readonly string[], backend: "sqlite" | "postgres"): CaseSpec["setup"] => {
    return async (): Promise<Workload> => {
      // A manual clock: abandoned silos keep no timers, so swapping silos needs no stop (a stop
      // would snapshot the activations and change the prepared histories).
      // The silo's stores, opened in this thread (each case may run in a worker thread of its own).
      const { store, snapshots } = openStores(backend, context);
      const fresh = () => startBenchSilo({ actors: [ColdLedger], store, snapshots, clock: new ManualClock() });
      let silo: Silo = await fresh();
      let next = 0;
      return {
        concurrency: 1,
        reset: async () => {
          silo = await fresh();
          next = 0;
        },
        op: async () => {
          if (next === ids.length) {
            silo = await fresh();
            next = 0;
          }
          return silo.get(ColdLedger, ids[next++] as string).balance();
        },
        teardown: async () => {
          await store.close();
          await snapshots.close();
        },
      };
    };
  };
  const rawPg = (ids: readonly string[], withSnapshot: boolean): CaseSpec["setup"] => {
    return async () => {
      const client = new pg.Client({ connectionString: context.pgUrl });
      client.on("error", () => {});
      await client.connect();
      let next = 0;
      return {
        concurrency: 1,
        op: async () => {
          const stream = streamOf(ids[next++ % ids.length] as string);
          let state = INITIAL_LEDGER;
          let version = 0;
          if (withSnapshot) {
            const { rows } = await client.query<{ version: string; state: LedgerState }>(
              "SELECT version, state FROM granary.snapshots WHERE namespace = $1 AND stream = $2 ORDER BY version DESC LIMIT 1",
              [PG_NAMESPACE, stream],
            );
            const row = rows[0];
            if (row) {
              state = row.state;
              version = Number(row.version);
            }
          }
          // pg decodes jsonb (data, metadata) to objects itself.
          const { rows } = await client.query<{ version: string; data: { amount: number } }>(
            "SELECT version, type, data, metadata FROM granary.events WHERE namespace = $1 AND stream = $2 AND version >= $3 ORDER BY version",
            [PG_NAMESPACE, stream, version + 1],
          );
          for (const row of rows) state = applyLedger(state, { type: "Deposited", amount: row.data.amount });
          return state.balance;
        },
        teardown: () => client.end(),
      };
    };
  };
  const snapLabel = `snapshot + ${AFTER_SNAPSHOT} events`;
  const longLabel = `${LONG_HISTORY} events, no snapshot`;
  const rows = (backend: "sqlite" | "postgres"): CaseSpec[] => {
    const rawOf = backend === "sqlite" ? raw : rawPg;
    const tag = backend === "sqlite" ? "SQLite" : "PostgreSQL";
    return [
      { name: `${tag} raw read + decode, ${snapLabel}`, role: "baseline", setup: rawOf(snapIds, true) },
      {
        name: `${tag} granary, ${snapLabel}`,
        role: "granary",
        baseline: `${tag} raw read + decode, ${snapLabel}`,
        ratioKind: "latency",
        targets: [maxLatencyFactor(2), maxP50Ms(2)],
        setup: granary(snapIds, backend),
      },
      { name: `${tag} raw read + decode, ${longLabel}`, role: "baseline", setup: rawOf(longIds, false) },
      {
        name: `${tag} granary, ${longLabel}`,
        role: "granary",
        baseline: `${tag} raw read + decode, ${longLabel}`,
        ratioKind: "latency",
        targets: [maxLatencyFactor(2)],
        setup: granary(longIds, backend),
      },
    ];
  };
  return [...rows("sqlite"), ...rows("postgres")];
}

/**
 * Activating an actor whose history is on disk: newest snapshot + the 100 events after it, and
 * 1,000 events without a snapshot. Each operation activates a different prepared actor (the pool
 * is re-activated on a fresh silo when exhausted), against the same reads and fold done by hand.
 */
export const coldActivation: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const streams = config.coldStreams;
    const dir = scratchDir(config, NAME);
    const server = await startPostgresServer({ fsync: true });
    const context: Context = { path: join(dir.path, "history.db"), pgUrl: server.url };
    try {
      for (const backend of ["sqlite", "postgres"] as const) {
        const { store, snapshots } = openStores(backend, context);
        await prepare(config, store, snapshots);
      }
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: await runCases(NAME, cases(config, context), config, context),
        settings: {
          sqlite: "SqliteEventStore + SqliteSnapshotStore, one file, WAL",
          postgres:
            "PostgresEventStore + PostgresSnapshotStore on a throwaway local server (startPostgresServer, fsync on)",
          streamsPerRow: streams,
          snapshotAt: SNAPSHOT_AT,
          eventsAfterSnapshot: AFTER_SNAPSHOT,
          longHistory: LONG_HISTORY,
          operation: "first call (balance()) on an actor not active on this silo",
        },
        notes: [
          "Baseline: the same rows read on a separate better-sqlite3 connection, JSON-decoded (data and metadata) and folded with the same apply. It isolates the runtime's activation (directory registration, instance, replay loop, upcasting and decode checks in the store) from SQLite's read cost.",
          "Pages are hot in the OS cache for both; this measures CPU cost of rehydration, not a cold disk.",
        ],
      };
    } finally {
      await server.stop();
      dir.remove();
    }
  },
};
