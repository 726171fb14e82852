import { CommandHandler, type Event, getInMemoryEventStore, type InMemoryEventStore } from "@event-driven-io/emmett";
import { type ActorRef, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import type { Silo } from "@granary/runtime";
import { applyLedger, INITIAL_LEDGER, Ledger, type LedgerState } from "../lib/actors.js";
import { BareMailbox } from "../lib/bare-mailbox.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "peer-emmett";
const TITLE = "Peer: Emmett command handling, in-memory event store";

type Deposited = Event<"Deposited", { amount: number }>;

const evolve = (state: LedgerState, event: Deposited): LedgerState =>
  applyLedger(state, { type: "Deposited", amount: event.data.amount });

/**
 * The event-sourced command load on Emmett's in-memory store: its CommandHandler (reads the stream
 * and folds it on every command) and a cached-state variant (state kept per stream, appends with
 * the expected version, calls serialized per stream like an actor), next to Granary in the same run.
 */
function cases(config: BenchConfig): CaseSpec[] {
  const { actors, concurrency } = config;
  const ids = Array.from({ length: actors }, (_, i) => `e-${i}`);
  const granary: CaseSpec["setup"] = async () => {
    let silo: Silo | undefined;
    let refs: ActorRef<Ledger>[] = [];
    const random = randomInts(19);
    return {
      concurrency,
      sampleEvery: 8,
      reset: async () => {
        await silo?.stop();
        silo = await startBenchSilo({
          actors: [Ledger],
          store: new MemoryEventStore(),
          snapshots: new MemorySnapshotStore(),
        });
        const s = silo;
        refs = ids.map((id) => s.get(Ledger, id));
        await Promise.all(refs.map((ref) => ref.balance()));
      },
      op: () => (refs[random(refs.length)] as ActorRef<Ledger>).deposit(1),
      teardown: async () => void (await silo?.stop()),
    };
  };
  const handler: CaseSpec["setup"] = async () => {
    let store: InMemoryEventStore = getInMemoryEventStore();
    const handle = CommandHandler<LedgerState, Deposited>({
      evolve,
      initialState: () => INITIAL_LEDGER,
      retry: { onVersionConflict: 10 },
    });
    const random = randomInts(19);
    const deposit = (): Deposited[] => [{ type: "Deposited", data: { amount: 1 } }];
    return {
      concurrency,
      sampleEvery: 8,
      // A fresh store per run: the handler folds the whole stream per command, so longer
      // streams would make every later run slower.
      reset: async () => {
        store = getInMemoryEventStore();
      },
      op: () => handle(store, ids[random(ids.length)] as string, deposit),
    };
  };
  const cached: CaseSpec["setup"] = async () => {
    let store: InMemoryEventStore = getInMemoryEventStore();
    let mailbox = new BareMailbox(() => ({ state: INITIAL_LEDGER, version: 0n }));
    const random = randomInts(19);
    return {
      concurrency,
      sampleEvery: 8,
      reset: async () => {
        store = getInMemoryEventStore();
        mailbox = new BareMailbox(() => ({ state: INITIAL_LEDGER, version: 0n }));
      },
      op: () => {
        const id = ids[random(ids.length)] as string;
        return mailbox.call(id, async (entry) => {
          const event: Deposited = { type: "Deposited", data: { amount: 1 } };
          const result = await store.appendToStream(id, [event], { expectedStreamVersion: entry.version });
          entry.version = result.nextExpectedStreamVersion;
          entry.state = evolve(entry.state, event);
          return entry.state.balance;
        });
      },
    };
  };
  const load = `${actors} streams × ${concurrency} callers`;
  return [
    { name: `granary, ${load}`, role: "granary", setup: granary },
    { name: `emmett CommandHandler, ${load}`, role: "peer", baseline: `granary, ${load}`, setup: handler },
    { name: `emmett cached state, ${load}`, role: "peer", baseline: `granary, ${load}`, setup: cached },
  ];
}

export const peerEmmett: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const { actors, concurrency } = config;
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows: await runCases(NAME, cases(config), config),
      settings: { actors, concurrency, emmett: "0.42, getInMemoryEventStore(); fresh store before each run" },
      notes: [
        "Here the peers are compared with Granary (ratio = peer ops/s ÷ Granary ops/s). Emmett has no PostgreSQL server here until startPostgresServer lands; the PostgreSQL variants are pending.",
      ],
    };
  },
};
