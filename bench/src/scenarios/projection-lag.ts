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

/** Raw: append, then time until a plain feed subscriber receives the event (0 if it came first). */
async function notificationLatency(store: EventStore, samples: number): Promise<number[]> {
  const arrived = new Map<number, number>();
  let wake: () => void = () => {};
  const subscription = store.subscribe({
    fromPosition: (await store.readAll(0, 1_000_000)).at(-1)?.position ?? 0,
    onEvent: (event) => {
      arrived.set(event.position, performance.now());
      wake();
    },
  });
  const out: number[] = [];
  const stream = `Raw/${Date.now()}`;
  for (let v = 1; v <= samples; v++) {
    const { position } = await store.append(stream, v - 1, [tick(stream, v)]);
    const acked = performance.now();
    while (!arrived.has(position)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    out.push(Math.max(0, (arrived.get(position) as number) - acked));
    arrived.delete(position);
  }
  await subscription.close();
  return out;
}

/** Granary: append, then time until the projection's document reflects it (a read-your-writes query). */
async function projectionLatency(store: EventStore, samples: number): Promise<number[]> {
  const silo = await startBenchSilo({ actors: [Idle], projections: [Counter], store });
  const out: number[] = [];
  const stream = `Lag/${Date.now()}`;
  try {
    await silo.query(Counter).count({ waitForLatest: true });
    for (let v = 1; v <= samples; v++) {
      await store.append(stream, v - 1, [tick(stream, v)]);
      const acked = performance.now();
      const doc = await silo.query(Counter).get(stream, { waitForLatest: true });
      out.push(performance.now() - acked);
      if (doc?.n !== v) throw new Error(`expected ${v} events in the document, got ${doc?.n}`);
    }
  } finally {
    await silo.stop();
  }
  return out;
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

function percentile(values: readonly number[], q: number): number {
  return percentileOfSorted(
    [...values].sort((a, b) => a - b),
    q * 100,
  );
}

function rows(store: string, raw: number[], granary: number[]): Row[] {
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
      extra: { summary: `p50 ${ms(percentile(granary, 0.5))}, p99 ${ms(p99)}`, p99Factor: Number(factor.toFixed(2)) },
    },
  ];
}

/**
 * Sequential commits, one event each; for every one, the time from the append's acknowledgement
 * until (raw) a plain feed subscriber of the same store receives it, and (Granary) a document
 * projection has committed it (observed by a waitForLatest query on the projection's silo).
 */
export const projectionLag: Scenario = {
  name: NAME,
  title: TITLE,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const samples = config.smoke ? 20 : Number(process.env.BENCH_LAG_SAMPLES ?? 500);
    const dir = scratchDir(config, NAME);
    const out: Row[] = [];
    try {
      const sqlite = new SqliteEventStore({ path: join(dir.path, "lag.db") });
      out.push(...rows("SQLite", await notificationLatency(sqlite, samples), await projectionLatency(sqlite, samples)));
      await sqlite.close();
      // The smoke run skips PostgreSQL: starting a server alone takes most of its budget.
      if (!config.smoke) {
        const server = await startPostgresServer();
        try {
          const postgres = new PostgresEventStore({ connectionString: server.url, logger: { warn: () => {} } });
          out.push(
            ...rows(
              "PostgreSQL",
              await notificationLatency(postgres, samples),
              await projectionLatency(postgres, samples),
            ),
          );
          await postgres.close();
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
        events: "one per commit, sequential",
        projection: "DocumentProjection, one document per stream",
      },
      notes: [
        "The projection's latency includes its own commit (documents + checkpoint in one transaction; on SQLite without an fsync of its own, commitSynchronous=NORMAL — on PostgreSQL with one) and the query that observes it; the notification baseline does no write at all.",
      ],
    };
  },
};
