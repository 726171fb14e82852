import { join } from "node:path";
import {
  Actor,
  DocumentProjection,
  type EventEnvelope,
  type EventStore,
  type ProjectedEvent,
  type ProjectionStore,
} from "@granary/core";
import { PostgresEventStore } from "@granary/postgres";
import type { Silo } from "@granary/runtime";
import { SqliteEventStore } from "@granary/sqlite";
import { startPostgresServer } from "@granary/testing";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import type { BenchConfig } from "../lib/config.js";
import { formatOps } from "../lib/format.js";
import type { Scenario } from "../lib/scenario.js";
import { startBenchSilo } from "../lib/silo.js";
import { median } from "../lib/stats.js";
import { minShareOfBaseline } from "../lib/targets.js";
import { scratchDir } from "../lib/tmp.js";
import type { Row, ScenarioResult } from "../lib/types.js";

const NAME = "projection-rebuild";
const TITLE = "Rebuild of a document projection over existing history (SQLite, PostgreSQL)";
const SKUS = 1_000;
const PAGE = 1_000;
const STREAM_EVENTS = 100;

class Idle extends Actor {
  static readonly type = "Idle";
}

interface Counts {
  added: number;
  quantity: number;
}

/** A fresh projection class per run (a new name = a rebuild from position 0). */
function skuProjection(name: string) {
  return class extends DocumentProjection<Counts, { type: "ItemAdded"; sku: string; quantity: number }> {
    static readonly projection = name;
    static readonly events = ["ItemAdded"];
    key(event: ProjectedEvent<{ type: "ItemAdded"; sku: string; quantity: number }>) {
      return event.data.sku;
    }
    initialDocument(): Counts {
      return { added: 0, quantity: 0 };
    }
    apply(doc: Counts, event: ProjectedEvent<{ type: "ItemAdded"; sku: string; quantity: number }>): Counts {
      return { added: doc.added + 1, quantity: doc.quantity + event.data.quantity };
    }
  };
}

async function fill(store: EventStore, events: number): Promise<void> {
  const streams = Math.ceil(events / STREAM_EVENTS);
  let n = 0;
  for (let s = 0; s < streams; s += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, streams - s) }, async (_, i) => {
        const stream = `Cart/c-${s + i}`;
        const batch: EventEnvelope[] = [];
        for (let v = 1; v <= STREAM_EVENTS; v++) {
          const id = `01K${(n++).toString(32).toUpperCase().padStart(23, "0")}`;
          batch.push({
            id,
            type: "ItemAdded",
            stream,
            version: v,
            schemaVersion: 1,
            data: { sku: `sku-${(n * 7919) % SKUS}`, quantity: 1 + (n % 3) },
            metadata: { correlationId: id, causationId: id, commandId: id },
            timestamp: new Date().toISOString(),
          });
        }
        await store.append(stream, 0, batch);
      }),
    );
  }
}

/** Rebuilds through a silo: events per second from start until the checkpoint reaches the head. */
async function granaryRebuild(store: EventStore, run: number, head: number): Promise<number> {
  const started = performance.now();
  const silo: Silo = await startBenchSilo({
    actors: [Idle],
    projections: [skuProjection(`rebuild-${run}-${Date.now()}`)],
    store,
    readSide: { headIntervalMs: 50 },
  });
  try {
    for (;;) {
      const [status] = await silo.projections.status();
      if ((status?.position ?? 0) >= head) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return (head * 1_000) / (performance.now() - started);
  } finally {
    await silo.stop();
  }
}

/** The raw baseline on SQLite: pages of the feed, documents folded in memory, one upsert transaction per page. */
function rawSqliteRebuild(path: string, run: number): number {
  const db = new BetterSqlite3(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  const table = `raw_docs_${run}`;
  db.exec(`CREATE TABLE ${table} (key TEXT PRIMARY KEY, document TEXT NOT NULL) STRICT, WITHOUT ROWID;
           CREATE TABLE IF NOT EXISTS raw_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) STRICT`);
  const page = db.prepare<[number, number], { position: number; data: string }>(
    "SELECT position, data FROM events WHERE namespace = 'default' AND position > ? ORDER BY position LIMIT ?",
  );
  const load = db.prepare<[string], { key: string; document: string }>(
    `SELECT key, document FROM ${table} WHERE key IN (SELECT value FROM json_each(?))`,
  );
  const upsert = db.prepare(
    `INSERT INTO ${table} (key, document) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET document = excluded.document`,
  );
  const checkpoint = db.prepare(
    "INSERT INTO raw_checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position",
  );
  const write = db.transaction((docs: Map<string, Counts>, position: number) => {
    for (const [key, doc] of docs) upsert.run(key, JSON.stringify(doc));
    checkpoint.run(table, position);
  });
  const started = performance.now();
  let position = 0;
  let count = 0;
  for (;;) {
    const rows = page.all(position, PAGE);
    if (rows.length === 0) break;
    const events = rows.map((row) => ({
      position: row.position,
      data: JSON.parse(row.data) as { sku: string; quantity: number },
    }));
    const docs = new Map<string, Counts>();
    for (const row of load.all(JSON.stringify([...new Set(events.map((e) => e.data.sku))]))) {
      docs.set(row.key, JSON.parse(row.document) as Counts);
    }
    for (const event of events) {
      const doc = docs.get(event.data.sku) ?? { added: 0, quantity: 0 };
      docs.set(event.data.sku, { added: doc.added + 1, quantity: doc.quantity + event.data.quantity });
    }
    position = rows.at(-1)?.position ?? position;
    write(docs, position);
    count += rows.length;
  }
  const elapsed = performance.now() - started;
  db.close();
  return (count * 1_000) / elapsed;
}

/** The raw baseline on PostgreSQL: the same pages and batched upserts, one transaction per page. */
async function rawPostgresRebuild(url: string, run: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => {});
  const table = `raw_docs_${run}`;
  await pool.query(`CREATE TABLE ${table} (key text PRIMARY KEY, document jsonb NOT NULL)`);
  await pool.query("CREATE TABLE IF NOT EXISTS raw_checkpoints (name text PRIMARY KEY, position bigint NOT NULL)");
  const started = performance.now();
  let position = 0;
  let count = 0;
  const client = await pool.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ position: string; data: { sku: string; quantity: number } }>(
        `SELECT position, data FROM granary.events WHERE namespace = 'default' AND position > $1
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY position LIMIT $2`,
        [position, PAGE],
      );
      if (rows.length === 0) break;
      const keys = [...new Set(rows.map((r) => r.data.sku))];
      const docs = new Map<string, Counts>();
      const loaded = await client.query<{ key: string; document: Counts }>(
        `SELECT key, document FROM ${table} WHERE key = ANY ($1)`,
        [keys],
      );
      for (const row of loaded.rows) docs.set(row.key, row.document);
      for (const row of rows) {
        const doc = docs.get(row.data.sku) ?? { added: 0, quantity: 0 };
        docs.set(row.data.sku, { added: doc.added + 1, quantity: doc.quantity + row.data.quantity });
      }
      position = Number(rows.at(-1)?.position ?? position);
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO ${table} (key, document) SELECT * FROM unnest($1::text[], $2::jsonb[])
         ON CONFLICT (key) DO UPDATE SET document = excluded.document`,
        [[...docs.keys()], [...docs.values()].map((d) => JSON.stringify(d))],
      );
      await client.query(
        "INSERT INTO raw_checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        [table, position],
      );
      await client.query("COMMIT");
      count += rows.length;
    }
  } finally {
    client.release();
  }
  const elapsed = performance.now() - started;
  await pool.end();
  return (count * 1_000) / elapsed;
}

function rows(store: string, raw: number[], granary: number[]): Row[] {
  const ratios = granary.map((g, i) => g / (raw[i] as number));
  const granaryRow: Row = {
    name: `granary rebuild, ${store}`,
    role: "granary",
    opsPerSec: median(granary),
    baseline: `raw paged read + batched upserts, ${store}`,
    ratio: median(ratios),
    ratioKind: "throughput",
    targets: [],
    runs: granary,
  };
  return [
    {
      name: `raw paged read + batched upserts, ${store}`,
      role: "baseline",
      opsPerSec: median(raw),
      targets: [],
      runs: raw,
    },
    { ...granaryRow, targets: [minShareOfBaseline(0.5).check(granaryRow)] },
  ];
}

/**
 * Rebuild throughput (events/s) of a document projection over 100k existing events, against a raw
 * baseline on the same database that pages the feed and upserts the folded documents in one
 * transaction per page (with its checkpoint). Alternating rounds; medians and median ratios.
 */
export const projectionRebuild: Scenario = {
  name: NAME,
  title: TITLE,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const events = config.smoke ? 2_000 : Number(process.env.BENCH_REBUILD_EVENTS ?? 100_000);
    const runs = Math.max(1, Math.min(config.runs, 3));
    const dir = scratchDir(config, NAME);
    const out: Row[] = [];
    try {
      const path = join(dir.path, "rebuild.db");
      const sqlite = new SqliteEventStore({ path });
      await fill(sqlite, events);
      const head = await headOf(sqlite.openProjectionStore());
      const raw: number[] = [];
      const granary: number[] = [];
      for (let run = 0; run < runs; run++) {
        raw.push(rawSqliteRebuild(path, run));
        granary.push(await granaryRebuild(sqlite, run, head));
      }
      await sqlite.close();
      out.push(...rows("SQLite", raw, granary));

      // The smoke run skips PostgreSQL: starting a server alone takes most of its budget.
      if (!config.smoke) {
        const server = await startPostgresServer();
        try {
          const postgres = new PostgresEventStore({ connectionString: server.url, logger: { warn: () => {} } });
          await fill(postgres, events);
          const pgHead = await headOf(postgres.openProjectionStore());
          const pgRaw: number[] = [];
          const pgGranary: number[] = [];
          for (let run = 0; run < runs; run++) {
            pgRaw.push(await rawPostgresRebuild(server.url, run));
            pgGranary.push(await granaryRebuild(postgres, run, pgHead));
          }
          await postgres.close();
          out.push(...rows("PostgreSQL", pgRaw, pgGranary));
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
        events,
        skus: SKUS,
        page: PAGE,
        runs,
        durability: "SQLite WAL synchronous=FULL; PostgreSQL defaults (fsync on)",
        granary:
          "Silo with one DocumentProjection (batch 1,000, document cache 10,000), time from Silo.start to checkpoint = head",
      },
      notes: [
        `Events/s over ${formatOps(events)} events; each run rebuilds a new projection from position 0.`,
        "Raw baseline: SELECT a page of 1,000 events, load the touched documents, fold in memory, upsert them and a checkpoint in one transaction.",
      ],
    };
  },
};

async function headOf(store: ProjectionStore): Promise<number> {
  const head = await store.headPosition();
  await store.close();
  return head;
}
