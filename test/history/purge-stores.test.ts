import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type EventStore,
  MemoryEventStorage,
  MemoryEventStore,
  MemorySnapshotStorage,
  MemorySnapshotStore,
  type SnapshotStore,
  type Tombstone,
} from "@granary/core";
import { PostgresEventStore, PostgresSnapshotStore } from "@granary/postgres";
import { RedisEventStore, RedisSnapshotStore } from "@granary/redis";
import { Silo } from "@granary/runtime";
import { SqliteEventStore, SqliteSnapshotStore } from "@granary/sqlite";
import { type PostgresServer, type RedisServer, startPostgresServer, startRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../packages/runtime/src/__fixtures__/ledger.js";

const logger = pino({ level: "silent" });
/** pg is a dependency of @granary/postgres, not of the workspace root: borrow that package's copy. */
interface PgClient {
  connect(): Promise<void>;
  query<R>(sql: string): Promise<{ rows: R[] }>;
  end(): Promise<void>;
}
const pg = createRequire(new URL("../../packages/postgres/package.json", import.meta.url))("pg") as {
  Client: new (options: { connectionString: string }) => PgClient;
};
const MARKER = "ada.lovelace@example.com";
const REQUEST = { reason: "GDPR erasure request #42", requestedBy: "dpo@example.com" };

/** One backend: its stores, and everything it holds, as text to search for the personal data. */
interface Backend {
  open(): { store: EventStore; snapshots: SnapshotStore };
  dump(): Promise<string>;
}

let redis: RedisServer;
let postgres: PostgresServer;
let dir: string;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedisServer(), startPostgresServer()]);
  dir = await mkdtemp(join(tmpdir(), "granary-purge-"));
}, 120_000);
afterAll(async () => {
  await Promise.allSettled([redis?.stop(), postgres?.stop(), rm(dir, { recursive: true, force: true })]);
});

const backends: Record<string, () => Backend> = {
  memory: () => {
    const events = new MemoryEventStorage();
    const snapshots = new MemorySnapshotStorage();
    return {
      open: () => ({
        store: new MemoryEventStore({ storage: events }),
        snapshots: new MemorySnapshotStore({ storage: snapshots }),
      }),
      dump: async () =>
        JSON.stringify([events, snapshots], (_key, value: unknown) =>
          value instanceof Map ? [...value.entries()] : value,
        ),
    };
  },
  sqlite: () => {
    const path = join(dir, `purge-${Math.random().toString(36).slice(2)}.db`);
    return {
      open: () => ({ store: new SqliteEventStore({ path }), snapshots: new SqliteSnapshotStore({ path }) }),
      // Every byte of the database file and its WAL and shared-memory files.
      dump: async () => {
        const files = (await readdir(dir)).filter((f) => join(dir, f).startsWith(path));
        return files.map((f) => readFileSync(join(dir, f)).toString("latin1")).join("\n");
      },
    };
  },
  redis: () => {
    const namespace = `purge-${Math.random().toString(36).slice(2)}`;
    return {
      open: () => ({
        store: new RedisEventStore({ redis: redis.url, namespace }),
        snapshots: new RedisSnapshotStore({ redis: redis.url, namespace }),
      }),
      dump: async () => {
        const client = new Redis(redis.url);
        try {
          const out: unknown[] = [];
          for (const key of await client.keys("*")) {
            const type = await client.type(key);
            if (type === "string") out.push(key, await client.get(key));
            else if (type === "list") out.push(key, await client.lrange(key, 0, -1));
            else if (type === "hash") out.push(key, await client.hgetall(key));
            else if (type === "zset") out.push(key, await client.zrange(key, 0, -1));
            else if (type === "set") out.push(key, await client.smembers(key));
            else if (type === "stream") out.push(key, await client.xrange(key, "-", "+"));
            else out.push(key, `<${type}>`);
          }
          return JSON.stringify(out);
        } finally {
          client.disconnect();
        }
      },
    };
  },
  postgres: () => {
    const namespace = `purge-${Math.random().toString(36).slice(2)}`;
    return {
      open: () => ({
        store: new PostgresEventStore({ connectionString: postgres.url, namespace }),
        snapshots: new PostgresSnapshotStore({ connectionString: postgres.url, namespace }),
      }),
      // Every row of every table in Granary's schema.
      dump: async () => {
        const client = new pg.Client({ connectionString: postgres.url });
        await client.connect();
        try {
          const { rows: tables } = await client.query<{ table_name: string }>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'granary'",
          );
          const out: unknown[] = [];
          for (const { table_name } of tables) {
            const { rows } = await client.query(`SELECT * FROM granary."${table_name}"`);
            out.push(table_name, rows);
          }
          return JSON.stringify(out);
        } finally {
          await client.end();
        }
      },
    };
  },
};

describe.each(Object.keys(backends))("purge of a live actor on %s", (name) => {
  it("purge - no table, key, file or snapshot holds the purged payloads afterwards, and the tombstone says who, when and why", async () => {
    const backend = (backends[name] as () => Backend)();
    const { store, snapshots } = backend.open();
    const silo = await Silo.start({ actors: [Ledger], store, snapshots, logger });
    try {
      const ledger = silo.get(Ledger, "ada");
      await ledger.rename(`Ada Lovelace <${MARKER}>`);
      for (let i = 0; i < 6; i++) await ledger.credit(10, `refund to ${MARKER}`);
      await expect.poll(async () => (await snapshots.load("Ledger/ada"))?.version, { timeout: 20_000 }).toBe(6);
      // The check below can fail: before the purge, the personal data is there to be found.
      expect(await backend.dump()).toContain(MARKER);
      const before = Date.now();

      const tombstone: Tombstone = await silo.purge(Ledger, "ada", REQUEST);

      expect(tombstone).toMatchObject({ stream: "Ledger/ada", lastVersion: 7, ...REQUEST });
      expect(Date.parse(tombstone.purgedAt)).toBeGreaterThanOrEqual(before - 1_000);
      expect(await store.tombstone("Ledger/ada")).toEqual(tombstone);
      expect(silo.activeActors()).toEqual([]);
      expect(await backend.dump()).not.toContain(MARKER);
      await expect(ledger.balance()).rejects.toMatchObject({ code: "STREAM_PURGED" });
    } finally {
      await silo.stop();
    }
    // Stopping the silo wrote nothing back (no final snapshot of the purged actor).
    expect(await backend.dump()).not.toContain(MARKER);
    await Promise.all([store.close(), snapshots.close()]);
  }, 60_000);
});
