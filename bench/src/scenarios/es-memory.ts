import { type ActorRef, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import type { Silo } from "@granary/runtime";
import { applyLedger, INITIAL_LEDGER, Ledger, type LedgerEvent, type LedgerState } from "../lib/actors.js";
import { BareMailbox } from "../lib/bare-mailbox.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import { minOpsPerSec } from "../lib/targets.js";
import type { Scenario, ScenarioResult } from "../lib/types.js";

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
  const granary = (callers: number, keys: readonly string[], freezeState: boolean): CaseSpec["setup"] => {
    return async () => {
      let silo: Silo | undefined;
      let refs: ActorRef<Ledger>[] = [];
      const random = randomInts(11);
      let appended = 0;
      return {
        concurrency: callers,
        sampleEvery: 8,
        // A fresh store before each run: otherwise millions of stored events pile up in the heap
        // and the later runs measure the garbage collector.
        reset: async () => {
          await silo?.stop();
          silo = await startBenchSilo({
            actors: [Ledger],
            store: new MemoryEventStore(),
            snapshots: new MemorySnapshotStore(),
            freezeState,
          });
          const s = silo;
          refs = keys.map((id) => s.get(Ledger, id));
          await Promise.all(refs.map((ref) => ref.balance()));
        },
        op: async () => {
          await (refs[random(refs.length)] as ActorRef<Ledger>).deposit(1);
          appended++;
        },
        extra: () => ({ eventsAcknowledged: appended }),
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
      name: `granary, ${loadName}`,
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

/** `Ledger.deposit` through a silo on the memory store, against a bare mailbox doing the same fold. */
export const esMemory: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const { actors, concurrency } = config;
    const rows = await runCases(NAME, cases(config), config);
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows,
      settings: {
        actors,
        concurrency,
        store: "MemoryEventStore + MemorySnapshotStore (snapshot every 100 events)",
        freezeState: "false unless the row says so",
        storePerRun: "fresh store and silo before each run (untimed)",
      },
      notes: [
        "Baseline: the bare per-key promise-chain mailbox running the same fold and pushing the event to an array. It isolates what a command costs beyond the fold: turn savepoint, JSON check of the event, envelope with ULID and metadata, the store's validation and structured clone, and the snapshot policy.",
      ],
    };
  },
};
