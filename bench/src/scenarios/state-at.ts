import { join } from "node:path";
import { type EventEnvelope, ManualClock } from "@granary/core";
import type { Silo } from "@granary/runtime";
import { SqliteEventStore, SqliteSnapshotStore } from "@granary/sqlite";
import { applyLedger, INITIAL_LEDGER, Ledger, type LedgerState } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases, type Workload } from "../lib/harness.js";
import type { Scenario } from "../lib/scenario.js";
import { startBenchSilo } from "../lib/silo.js";
import { maxLatencyFactor } from "../lib/targets.js";
import { scratchDir } from "../lib/tmp.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "state-at";
const TITLE = "stateAt on a 10,000-event stream with snapshots every 100 vs cold activation, SQLite";
const HISTORY = 10_000;
const SNAPSHOT_EVERY = 100;

/** Takes no snapshots during the run, so every operation finds the stream as prepared. */
class PastLedger extends Ledger {
  static override readonly type = "PastLedger";
  static readonly snapshotEvery = SNAPSHOT_EVERY;
}

const streamOf = (id: string) => `${PastLedger.type}/${id}`;

function idsOf(config: BenchConfig): string[] {
  return Array.from({ length: Math.max(2, Math.min(config.coldStreams, 8)) }, (_, i) => `past-${i}`);
}

function envelopes(stream: string): EventEnvelope[] {
  const metadata = { correlationId: "bench", causationId: "bench", commandId: "bench" };
  const timestamp = new Date().toISOString();
  return Array.from({ length: HISTORY }, (_, i) => ({
    id: `${stream}#${i + 1}`,
    type: "Deposited",
    stream,
    version: i + 1,
    schemaVersion: 1,
    data: { amount: 1 },
    metadata,
    timestamp,
  }));
}

/** 10,000 events per stream, and a snapshot every 100 of them (as the live actor would have taken). */
async function prepare(path: string, ids: readonly string[]): Promise<void> {
  const store = new SqliteEventStore({ path, synchronous: "FULL" });
  const snapshots = new SqliteSnapshotStore({ path, synchronous: "FULL" });
  try {
    for (const id of ids) {
      await store.append(streamOf(id), 0, envelopes(streamOf(id)));
      let state: LedgerState = INITIAL_LEDGER;
      for (let version = 1; version <= HISTORY; version++) {
        state = applyLedger(state, { type: "Deposited", amount: 1 });
        if (version % SNAPSHOT_EVERY === 0) {
          await snapshots.save({
            stream: streamOf(id),
            version,
            snapshotVersion: 1,
            state: { ...state },
            timestamp: new Date().toISOString(),
          });
        }
      }
    }
  } finally {
    await store.close();
    await snapshots.close();
  }
}

function cases(config: BenchConfig, context: { readonly path: string }): CaseSpec[] {
  const ids = idsOf(config);
  const open = () => ({
    store: new SqliteEventStore({ path: context.path, synchronous: "FULL" }),
    snapshots: new SqliteSnapshotStore({ path: context.path, synchronous: "FULL" }),
  });
  const cold: CaseSpec["setup"] = async (): Promise<Workload> => {
    const { store, snapshots } = open();
    // Abandoned silos keep no timers (manual clock), so a fresh silo needs no stop, which would snapshot.
    const fresh = () => startBenchSilo({ actors: [PastLedger], store, snapshots, clock: new ManualClock() });
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
        return silo.get(PastLedger, ids[next++] as string).balance();
      },
      teardown: async () => {
        await store.close();
        await snapshots.close();
      },
    };
  };
  const stateAt =
    (version: number): CaseSpec["setup"] =>
    async (): Promise<Workload> => {
      const { store, snapshots } = open();
      const silo = await startBenchSilo({ actors: [PastLedger], store, snapshots, clock: new ManualClock() });
      let next = 0;
      return {
        concurrency: 1,
        op: async () => (await silo.stateAt(PastLedger, ids[next++ % ids.length] as string, { version })).version,
        teardown: async () => {
          await store.close();
          await snapshots.close();
        },
      };
    };
  const baseline = `cold activation, ${HISTORY} events, snapshot at ${HISTORY}`;
  return [
    { name: baseline, role: "baseline", setup: cold },
    {
      name: `stateAt({ version: ${HISTORY} })`,
      role: "granary",
      baseline,
      ratioKind: "latency",
      targets: [maxLatencyFactor(2, "cold activation")],
      setup: stateAt(HISTORY),
    },
    {
      name: `stateAt({ version: ${HISTORY - 1} }): snapshot ${HISTORY - SNAPSHOT_EVERY} + ${SNAPSHOT_EVERY - 1} events`,
      role: "granary",
      baseline,
      ratioKind: "latency",
      targets: [],
      setup: stateAt(HISTORY - 1),
    },
  ];
}

/**
 * The state of a 10,000-event stream at a past version, rebuilt in an instance of its own from the
 * newest snapshot at or below it, against activating the same stream from its newest snapshot.
 */
export const stateAt: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const dir = scratchDir(config, NAME);
    const context = { path: join(dir.path, "history.db") };
    try {
      await prepare(context.path, idsOf(config));
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: await runCases(NAME, cases(config, context), config, context),
        settings: {
          store: "SqliteEventStore + SqliteSnapshotStore, one file, WAL, synchronous=FULL",
          streams: idsOf(config).length,
          history: HISTORY,
          snapshotEvery: SNAPSHOT_EVERY,
        },
        notes: [
          "Baseline: the first call (balance()) to an actor not active on the silo: directory registration, newest snapshot, replay of nothing after it. stateAt adds the tombstone check, the latest version, the snapshot at or below the target and the timestamp of the target event.",
          "The second stateAt row starts from the snapshot at 9,900 and replays 99 events: the most any version costs with snapshots every 100. It has no target: its baseline replays nothing, so the ratio is the cost of 99 events of replay (the cold-activation scenario measures replay against a raw read).",
        ],
      };
    } finally {
      dir.remove();
    }
  },
};
