import {
  type ActorRef,
  type EventStore,
  MemoryEventStore,
  MemorySnapshotStore,
  type SnapshotStore,
} from "@granary/core";
import type { Silo } from "@granary/runtime";
import { applyLedger, INITIAL_LEDGER, Ledger, type LedgerEvent, type LedgerState } from "../lib/actors.js";
import { BareMailbox } from "../lib/bare-mailbox.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { NoopEventStore, NoopSnapshotStore } from "../lib/noop-stores.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import { median } from "../lib/stats.js";
import { maxAddedMicros, minOpsPerSec } from "../lib/targets.js";
import type { Row, ScenarioResult } from "../lib/types.js";

/** Which stores a granary row runs on. */
type Stores = "memory" | "noop";

function openStores(stores: Stores): { store: EventStore; snapshots: SnapshotStore } {
  return stores === "memory"
    ? { store: new MemoryEventStore(), snapshots: new MemorySnapshotStore() }
    : { store: new NoopEventStore(), snapshots: new NoopSnapshotStore() };
}

const NAME = "es-memory";
const TITLE = "Event-sourced command, MemoryEventStore";

/** The hand-rolled equivalent: fold the event and push it to the key's array. */
class BareLedger {
  state: LedgerState = INITIAL_LEDGER;
  readonly events: { type: string; data: { amount: number }; version: number }[] = [];

  async deposit(amount: number): Promise<number> {
    const event: LedgerEvent = { type: "Deposited", amount };
    this.state = applyLedger(this.state, event);
    this.events.push({ type: event.type, data: { amount }, version: this.events.length + 1 });
    return this.state.balance;
  }
}

function cases(config: BenchConfig): CaseSpec[] {
  const { actors, concurrency } = config;
  const ids = Array.from({ length: actors }, (_, i) => `l-${i}`);
  const one = ["l-0"];
  const bare = (callers: number, keys: readonly string[]): CaseSpec["setup"] => {
    return async () => {
      let mailbox = new BareMailbox(() => new BareLedger());
      const random = randomInts(11);
      const deposit = (ledger: BareLedger) => ledger.deposit(1);
      return {
        concurrency: callers,
        sampleEvery: 8,
        reset: async () => {
          mailbox = new BareMailbox(() => new BareLedger());
        },
        op: () => mailbox.call(keys[random(keys.length)] as string, deposit),
      };
    };
  };
  const granary = (
    callers: number,
    keys: readonly string[],
    freezeState: boolean,
    stores: Stores = "memory",
  ): CaseSpec["setup"] => {
    return async () => {
      let silo: Silo | undefined;
      let refs: ActorRef<Ledger>[] = [];
      const random = randomInts(11);
      return {
        concurrency: callers,
        sampleEvery: 8,
        // A fresh store before each run: otherwise millions of stored events pile up in the heap
        // and the later runs measure the garbage collector.
        reset: async () => {
          await silo?.stop();
          silo = await startBenchSilo({ actors: [Ledger], ...openStores(stores), freezeState });
          const s = silo;
          refs = keys.map((id) => s.get(Ledger, id));
          await Promise.all(refs.map((ref) => ref.balance()));
        },
        // The call's own promise, as the baseline's: no async wrapper adding a promise and a hop.
        op: () => (refs[random(refs.length)] as ActorRef<Ledger>).deposit(1),
        teardown: async () => {
          await silo?.stop();
        },
      };
    };
  };
  const loadName = `${actors} actors × ${concurrency} callers`;
  return [
    { name: "bare mailbox + fold, sequential", role: "baseline", setup: bare(1, one) },
    {
      name: "granary, sequential",
      role: "granary",
      baseline: "bare mailbox + fold, sequential",
      setup: granary(1, one, false),
    },
    { name: `bare mailbox + fold, ${loadName}`, role: "baseline", setup: bare(concurrency, ids) },
    {
      name: noopRow(loadName),
      role: "granary",
      baseline: `bare mailbox + fold, ${loadName}`,
      targets: [maxAddedMicros(2, "command")],
      setup: granary(concurrency, ids, false, "noop"),
    },
    {
      name: memoryRow(loadName),
      role: "granary",
      baseline: `bare mailbox + fold, ${loadName}`,
      targets: [minOpsPerSec(300_000, "commands/s")],
      setup: granary(concurrency, ids, false),
    },
    {
      name: `granary, ${loadName}, freezeState (dev default)`,
      role: "granary",
      baseline: `bare mailbox + fold, ${loadName}`,
      setup: granary(concurrency, ids, true),
    },
  ];
}

const noopRow = (load: string) => `granary, no-op store, ${load}`;
const memoryRow = (load: string) => `granary, ${load}`;

/**
 * What the memory store itself costs per command (validation, structured clone, and keeping every
 * event in the heap, which the garbage collector then walks): the memory-store row's time per
 * command minus the no-op-store row's, round by round (both rows run back to back in each round).
 */
function storeCostRow(rows: readonly Row[], load: string): Row | undefined {
  const memory = rows.find((r) => r.name === memoryRow(load))?.runs;
  const noop = rows.find((r) => r.name === noopRow(load))?.runs;
  if (!memory || !noop || memory.length !== noop.length) return undefined;
  const added = memory.map((ops, i) => (1 / ops - 1 / (noop[i] as number)) * 1e6);
  const perCommand = median(added);
  return {
    name: `memory store's own cost (retention, clone, validation), ${load}`,
    role: "granary",
    targets: [],
    extra: {
      summary: `+${perCommand.toFixed(2)} µs/command`,
      addedMicrosPerCommand: Math.round(perCommand * 100) / 100,
      over: noopRow(load),
    },
  };
}

/** `Ledger.deposit` through a silo on the memory store, against a bare mailbox doing the same fold. */
export const esMemory: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const { actors, concurrency } = config;
    const measured = await runCases(NAME, cases(config), config);
    const storeCost = storeCostRow(measured, `${actors} actors × ${concurrency} callers`);
    const rows = storeCost ? [...measured, storeCost] : measured;
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows,
      settings: {
        actors,
        concurrency,
        store:
          "MemoryEventStore + MemorySnapshotStore (snapshot every 100 events); the no-op row: a store that keeps and checks nothing (bench/src/lib/noop-stores.ts)",
        freezeState: "false unless the row says so",
        storePerRun: "fresh store and silo before each run (untimed)",
      },
      notes: [
        "Baseline: the bare per-key promise-chain mailbox running the same fold and pushing the event to an array. It isolates what a command costs beyond the fold: turn savepoint, JSON check of the event, envelope with ULID and metadata, the store's validation and structured clone, and the snapshot policy.",
        "The no-op-store row is the runtime's own command path (the store does nothing); its target is the time it adds per command over the bare fold. The memory store's own cost (validation, clone, retention of every event in the heap) is the memory-store row minus the no-op row, per round.",
      ],
    };
  },
};
