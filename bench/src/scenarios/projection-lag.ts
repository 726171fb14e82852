import { join } from "node:path";
import { Actor, DocumentProjection, type EventEnvelope, type EventStore, type ProjectedEvent } from "@granary/core";
import { PostgresEventStore } from "@granary/postgres";
import { SqliteEventStore } from "@granary/sqlite";
import { startPostgresServer } from "@granary/testing";
import type { BenchConfig } from "../lib/config.js";
import type { Scenario } from "../lib/scenario.js";
import { startBenchSilo } from "../lib/silo.js";
import { percentileOfSorted } from "../lib/stats.js";
import { scratchDir } from "../lib/tmp.js";
import type { Row, ScenarioResult } from "../lib/types.js";

const NAME = "projection-lag";
const TITLE = "Live lag: commit → document updated (p99), against the store's own notification latency";

class Idle extends Actor {
  static readonly type = "Idle";
}

class Counter extends DocumentProjection<{ n: number }, { type: "Ticked" }> {
  static readonly projection = "lag-counter";
  static readonly events = ["Ticked"];
  key(event: ProjectedEvent<{ type: "Ticked" }>) {
    return event.stream;
  }
  initialDocument() {
    return { n: 0 };
  }
  apply(doc: { n: number }) {
    return { n: doc.n + 1 };
  }
}

function tick(stream: string, version: number): EventEnvelope {
  const id = `01L${(version + Math.floor(Math.random() * 1e9)).toString(32).toUpperCase().padStart(23, "0")}`;
  return {
    id,
    type: "Ticked",
    stream,
    version,
    schemaVersion: 1,
    data: {},
    metadata: { correlationId: id, causationId: id, commandId: id },
    timestamp: new Date().toISOString(),
  };
}

/** Samples of one side, taken in blocks that alternate with the other side's. */
interface Side {
  /** Appends one event and returns its latency; `v` counts this side's events from 1. */
  sample(v: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Raw: `store.subscribe` (the store's gap-safe feed: woken by its change signal, then one
 * `readAll`) on a store of its own (file or namespace), so it sees none of the projection's
 * traffic. Time from the append's acknowledgement to `onEvent` with the event (0 if it came first).
 */
async function rawSide(store: EventStore): Promise<Side> {
  const arrived = new Map<number, number>();
  let wake: () => void = () => {};
  const subscription = store.subscribe({
    fromPosition: (await store.readAll(0, 1_000_000)).at(-1)?.position ?? 0,
    onEvent: (event) => {
      arrived.set(event.position, performance.now());
      wake();
    },
  });
  const stream = `Raw/${Date.now()}`;
  return {
    async sample(v) {
      const { position } = await store.append(stream, v - 1, [tick(stream, v)]);
      const acked = performance.now();
      while (!arrived.has(position)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      const latency = Math.max(0, (arrived.get(position) as number) - acked);
      arrived.delete(position);
      return latency;
    },
    close: () => subscription.close(),
  };
}

/**
 * Granary: a silo running the document projection on its own store. Time from the append's
 * acknowledgement until a read-your-writes query (`get` with `waitForLatest`) on that silo
 * returns the document with the event folded in: the feed delivery, the fold, the commit of
 * document + checkpoint in one transaction and the query's own head look-up are all inside.
 */
async function granarySide(store: EventStore): Promise<Side> {
  const silo = await startBenchSilo({ actors: [Idle], projections: [Counter], store });
  const stream = `Lag/${Date.now()}`;
  await silo.query(Counter).count({ waitForLatest: true });
  return {
    async sample(v) {
      await store.append(stream, v - 1, [tick(stream, v)]);
      const acked = performance.now();
      const doc = await silo.query(Counter).get(stream, { waitForLatest: true });
      const latency = performance.now() - acked;
      if (doc?.n !== v) throw new Error(`expected ${v} events in the document, got ${doc?.n}`);
      return latency;
    },
    close: () => silo.stop(),
  };
}

interface Measured {
  readonly raw: number[];
  readonly granary: number[];
  /** p99 of each round's block, raw and Granary, for the JSON. */
  readonly rounds: { rawP99: number; granaryP99: number }[];
}

/**
 * Warm-up, then `rounds` rounds; in each, one block of `perRound` sequential samples per side,
 * the side going first alternating, so both see the same machine load.
 */
async function measure(raw: Side, granary: Side, samples: number, rounds: number, warmup: number): Promise<Measured> {
  const counts = { raw: 0, granary: 0 };
  const block = async (side: "raw" | "granary", n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await (side === "raw" ? raw : granary).sample(++counts[side]));
    return out;
  };
  await block("raw", warmup);
  await block("granary", warmup);
  const result: Measured = { raw: [], granary: [], rounds: [] };
  const perRound = Math.ceil(samples / rounds);
  for (let round = 0; round < rounds; round++) {
    const order: ("raw" | "granary")[] = round % 2 === 0 ? ["raw", "granary"] : ["granary", "raw"];
    const got: Record<string, number[]> = {};
    for (const side of order) got[side] = await block(side, perRound);
    const r = got.raw as number[];
    const g = got.granary as number[];
    result.raw.push(...r);
    result.granary.push(...g);
    result.rounds.push({ rawP99: percentile(r, 0.99), granaryP99: percentile(g, 0.99) });
  }
  return result;
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function percentile(values: readonly number[], q: number): number {
  return percentileOfSorted(
    [...values].sort((a, b) => a - b),
    q * 100,
  );
}

function rows(store: string, { raw, granary, rounds }: Measured): Row[] {
  const rawP99 = percentile(raw, 0.99);
  const p99 = percentile(granary, 0.99);
  const factor = p99 / rawP99;
  return [
    {
      name: `store notification (feed subscriber), ${store}`,
      role: "baseline",
      p50Ms: percentile(raw, 0.5),
      p99Ms: rawP99,
      targets: [],
      extra: { summary: `p50 ${ms(percentile(raw, 0.5))}, p99 ${ms(rawP99)}` },
    },
    {
      name: `commit → document updated, ${store}`,
      role: "granary",
      p50Ms: percentile(granary, 0.5),
      p99Ms: p99,
      baseline: `store notification (feed subscriber), ${store}`,
      ratioKind: "latency",
      targets: [{ label: "p99 ≤ 2× notification p99", met: factor <= 2, actual: `${factor.toFixed(2)}×` }],
      extra: {
        summary: `p50 ${ms(percentile(granary, 0.5))}, p99 ${ms(p99)}`,
        p99Factor: Number(factor.toFixed(2)),
        p99PerRoundRawGranaryMs: rounds.map((r) => `${round3(r.rawP99)}/${round3(r.granaryP99)}`).join(" "),
      },
    },
  ];
}

/**
 * Sequential commits, one event each; for every one, the time from the append's acknowledgement
 * until (raw) a plain feed subscriber of another store on the same database receives it, and
 * (Granary) a read-your-writes query sees the document projection's commit of it. The two sides
 * take turns in blocks (see {@link measure}); p50/p99 are over all their samples.
 */
export const projectionLag: Scenario = {
  name: NAME,
  title: TITLE,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const samples = config.smoke ? 20 : Number(process.env.BENCH_LAG_SAMPLES ?? 500);
    const rounds = config.smoke ? 2 : config.runs;
    const warmup = config.smoke ? 5 : 50;
    const dir = scratchDir(config, NAME);
    const out: Row[] = [];
    const both = async (label: string, rawStore: EventStore, siloStore: EventStore): Promise<void> => {
      const raw = await rawSide(rawStore);
      const granary = await granarySide(siloStore);
      try {
        out.push(...rows(label, await measure(raw, granary, samples, rounds, warmup)));
      } finally {
        await granary.close();
        await raw.close();
      }
    };
    try {
      // Two files: a commit on one wakes no subscriber of the other.
      const rawSqlite = new SqliteEventStore({ path: join(dir.path, "raw.db") });
      const siloSqlite = new SqliteEventStore({ path: join(dir.path, "lag.db") });
      await both("SQLite", rawSqlite, siloSqlite);
      await siloSqlite.close();
      await rawSqlite.close();
      // The smoke run skips PostgreSQL: starting a server alone takes most of its budget.
      if (!config.smoke) {
        const server = await startPostgresServer();
        try {
          // Two namespaces of one database: each store's feed and wake-ups are its namespace's.
          const open = (namespace: string) =>
            new PostgresEventStore({ connectionString: server.url, namespace, logger: { warn: () => {} } });
          const rawPostgres = open("lag-raw");
          const siloPostgres = open("lag");
          await both("PostgreSQL", rawPostgres, siloPostgres);
          await siloPostgres.close();
          await rawPostgres.close();
        } finally {
          await server.stop();
        }
      }
    } finally {
      dir.remove();
    }
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows: out,
      settings: {
        samples,
        rounds,
        warmupSamples: warmup,
        events: "one per commit, sequential",
        projection: "DocumentProjection, one document per stream",
        measuredFrom: "the append's acknowledgement (its promise settled: the commit returned)",
        rawUntil: "store.subscribe's onEvent receives the event (change signal, then one readAll)",
        granaryUntil: "silo.query(...).get(key, { waitForLatest: true }) returns the updated document",
      },
      notes: [
        "Both sides run in one process, in alternating blocks of samples (the first side alternates per round), each on its own store (SQLite file; PostgreSQL namespace) so neither wakes the other.",
        "The projection's latency includes the same feed delivery as the baseline, its fold, its commit (documents + checkpoint in one transaction; SQLite commitSynchronous=NORMAL, no fsync of its own; the benchmark's PostgreSQL server runs with fsync off), and the query's head look-up; the baseline writes nothing.",
      ],
    };
  },
};
