import { writeHeapSnapshot } from "node:v8";
import { EventSourcedActor, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { applyLedger, type LedgerEvent, type LedgerState } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { formatBytes } from "../lib/format.js";
import { settleHeap } from "../lib/gc.js";
import type { Scenario } from "../lib/scenario.js";
import { startBenchSilo } from "../lib/silo.js";
import { maxExtra } from "../lib/targets.js";
import type { Row, ScenarioResult } from "../lib/types.js";

const NAME = "memory-per-activation";
const TITLE = "Memory per idle activation";
const BATCH = 1_000;

/** A small event-sourced actor whose state is its own object (not a shared constant). */
class MemLedger extends EventSourcedActor<LedgerState, LedgerEvent> {
  static readonly type = "MemLedger";

  initialState(): LedgerState {
    return { balance: 0, deposits: 0 };
  }

  apply(state: LedgerState, event: LedgerEvent): LedgerState {
    return applyLedger(state, event);
  }

  async balance(): Promise<number> {
    return this.state.balance;
  }
}

interface Footprint {
  readonly heap: number;
  readonly rss: number;
}

async function footprint(): Promise<Footprint> {
  await settleHeap();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

/** Bytes per item of what `build` keeps alive, measured as heap and RSS growth after full GCs. */
async function measure<T>(
  count: number,
  build: () => Promise<T>,
): Promise<{ perHeap: number; perRss: number; kept: T }> {
  const before = await footprint();
  const kept = await build();
  const after = await footprint();
  return { perHeap: (after.heap - before.heap) / count, perRss: (after.rss - before.rss) / count, kept };
}

/**
 * 100k activations of a small event-sourced actor (no events yet), idle, on the memory store.
 * Baselines: the user's state objects alone, and a bare mailbox entry (state + promise tail).
 */
export const memoryPerActivation: Scenario = {
  name: NAME,
  title: TITLE,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const count = config.activations;
    const ids = Array.from({ length: count }, (_, i) => `m-${i}`);
    // Granary first, in the cleanest heap; RSS growth is only indicative (freed pages get reused).
    let activationsPerSec = 0;
    const granary = await measure(count, async () => {
      const silo = await startBenchSilo({
        actors: [MemLedger],
        store: new MemoryEventStore(),
        snapshots: new MemorySnapshotStore(),
      });
      const started = performance.now();
      for (let i = 0; i < count; i += BATCH) {
        await Promise.all(ids.slice(i, i + BATCH).map((id) => silo.get(MemLedger, id).balance()));
      }
      activationsPerSec = (count / (performance.now() - started)) * 1000;
      // To see what an activation is made of: BENCH_HEAP_SNAPSHOT=<file>, then tools/heap-top.js.
      if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
      return silo;
    });
    if (granary.kept.activationCount !== count) throw new Error(`expected ${count} activations`);
    await granary.kept.stop();
    granary.kept = undefined as never;

    const state = await measure(count, async () => ids.map((_, i) => ({ balance: i, deposits: 0 })));
    state.kept.length = 0;
    const bare = await measure(count, async () => {
      const map = new Map<string, { state: LedgerState; tail: Promise<unknown> }>();
      for (const [i, id] of ids.entries()) map.set(id, { state: { balance: i, deposits: 0 }, tail: Promise.resolve() });
      return map;
    });
    bare.kept.clear();

    const row = (name: string, role: Row["role"], m: { perHeap: number; perRss: number }, extra = {}): Row => ({
      name,
      role,
      targets: [],
      extra: {
        summary: `${formatBytes(m.perHeap)} heap, ${formatBytes(m.perRss)} RSS`,
        heapBytesPerItem: Math.round(m.perHeap),
        rssBytesPerItem: Math.round(m.perRss),
        ...extra,
      },
    });
    const beyondState = granary.perHeap - state.perHeap;
    const granaryRow = row(`granary activation (${count} idle)`, "granary", granary, {
      beyondStateBytes: Math.round(beyondState),
      activationsPerSec: Math.round(activationsPerSec),
    });
    const target = maxExtra("beyondStateBytes", 1024, "≤ 1 KiB per activation beyond state", formatBytes);
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows: [
        row(`user state only (${count} objects)`, "baseline", state),
        row(`bare mailbox entry + state (${count})`, "baseline", bare),
        { ...granaryRow, targets: [target.check(granaryRow)] },
      ],
      settings: {
        activations: count,
        actor: "MemLedger: event-sourced, state { balance, deposits }, no events",
        store: "MemoryEventStore + MemorySnapshotStore, in-process directory",
        method: "heapUsed and RSS after 3 full GCs, before and after; ids allocated beforehand",
        exposeGc: typeof (globalThis as { gc?: unknown }).gc === "function",
      },
      notes: [
        `Activated ${count} actors at ${Math.round(activationsPerSec)} activations/s (${BATCH} in flight); the figure per activation includes the silo's directory entry and catalog entry.`,
        "Beyond state = granary heap per activation − user state heap per object.",
      ],
    };
  },
};
