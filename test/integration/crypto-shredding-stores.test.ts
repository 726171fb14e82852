import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EventSourcedActor,
  type EventStore,
  type KeyStore,
  MemoryEventStorage,
  MemoryEventStore,
  MemoryKeyStorage,
  MemoryKeyStore,
  MemorySnapshotStorage,
  MemorySnapshotStore,
  type Personal,
  type PersonalData,
  redacted,
  type SnapshotStore,
} from "@granary/core";
import { PostgresEventStore, PostgresKeyStore, PostgresSnapshotStore } from "@granary/postgres";
import { RedisEventStore, RedisKeyStore, RedisSnapshotStore } from "@granary/redis";
import { Silo } from "@granary/runtime";
import { SqliteEventStore, SqliteKeyStore, SqliteSnapshotStore } from "@granary/sqlite";
import { type PostgresServer, type RedisServer, startPostgresServer, startRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type PatientEvent =
  | { type: "Admitted"; patientId: string; name: Personal<string>; diagnosis: Personal<string>; ward: string }
  | { type: "Moved"; ward: string };

interface PatientState {
  readonly name: Personal<string> | null;
  readonly diagnosis: Personal<string> | null;
  readonly ward: string | null;
}

class Patient extends EventSourcedActor<PatientState, PatientEvent> {
  static readonly type = "Patient";
  static snapshotEvery = 2;
  static readonly personalData: PersonalData<PatientEvent> = {
    Admitted: { subject: (e) => e.patientId, fields: ["name", "diagnosis"] },
  };

  initialState(): PatientState {
    return { name: null, diagnosis: null, ward: null };
  }

  apply(state: PatientState, event: PatientEvent): PatientState {
    return event.type === "Admitted"
      ? { name: event.name, diagnosis: event.diagnosis, ward: event.ward }
      : { ...state, ward: event.ward };
  }

  async admit(name: string, diagnosis: string): Promise<void> {
    this.raise({ type: "Admitted", patientId: this.id, name, diagnosis, ward: "A" });
  }

  async move(ward: string): Promise<void> {
    this.raise({ type: "Moved", ward });
  }

  async chart(): Promise<PatientState> {
    return this.state;
  }
}

/** One backend: how to open its three stores, and every byte it holds. */
interface Backend {
  open(): { store: EventStore; snapshots: SnapshotStore; keyStore: KeyStore };
  dump(): Promise<Buffer>;
}

const silent = pino({ level: "silent" });
const dir = join(tmpdir(), `granary-shredding-${randomUUID()}`);
let redis: RedisServer;
let postgres: PostgresServer;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedisServer(), startPostgresServer()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), postgres?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function memoryBackend(): Backend {
  const events = new MemoryEventStorage();
  const snapshots = new MemorySnapshotStorage();
  const keys = new MemoryKeyStorage();
  return {
    open: () => ({
      store: new MemoryEventStore({ storage: events }),
      snapshots: new MemorySnapshotStore({ storage: snapshots }),
      keyStore: new MemoryKeyStore({ storage: keys }),
    }),
    dump: async () => {
      const keyBytes = [...keys.keys.values()].flatMap((k) => (k.status === "active" ? [Buffer.from(k.key)] : []));
      const text = JSON.stringify({
        events: [...events.streams.values()].flatMap((m) => [...m.values()].map((s) => s.events)),
        snapshots: [...snapshots.snapshots.values()],
      });
      return Buffer.concat([Buffer.from(text), ...keyBytes]);
    },
  };
}

function sqliteBackend(): Backend {
  const path = join(dir, `${randomUUID()}.db`);
  const keyPath = join(dir, `${randomUUID()}-keys.db`);
  return {
    open: () => ({
      store: new SqliteEventStore({ path }),
      snapshots: new SqliteSnapshotStore({ path }),
      keyStore: new SqliteKeyStore({ path: keyPath }),
    }),
    // The files as they are on disk, with their write-ahead logs.
    dump: async () =>
      Buffer.concat(
        [path, `${path}-wal`, keyPath, `${keyPath}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
      ),
  };
}

function postgresBackend(): Backend {
  const schema = `s_${randomUUID().slice(0, 8)}`;
  const options = { connectionString: postgres.url, schema, logger: { warn: () => {} } };
  return {
    open: () => ({
      store: new PostgresEventStore(options),
      snapshots: new PostgresSnapshotStore(options),
      keyStore: new PostgresKeyStore(options),
    }),
    // Every row of every table of the schema, every column, as text (bytea as hex).
    dump: async () => {
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const { rows: tables } = await client.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
          [schema],
        );
        expect(tables.map((t) => t.table_name)).toEqual(
          expect.arrayContaining(["events", "snapshots", "subject_keys"]),
        );
        const parts: string[] = [];
        for (const { table_name } of tables) {
          const { rows } = await client.query<{ row: string }>(
            `SELECT row_to_json(t)::text AS row FROM "${schema}"."${table_name}" t`,
          );
          parts.push(...rows.map((r) => r.row));
        }
        return Buffer.from(parts.join("\n"));
      } finally {
        await client.end();
      }
    },
  };
}

function redisBackend(): Backend {
  const keyPrefix = `p${randomUUID().slice(0, 8)}`;
  const options = { redis: redis.url, keyPrefix, logger: { warn: () => {} } };
  return {
    open: () => ({
      store: new RedisEventStore(options),
      snapshots: new RedisSnapshotStore(options),
      keyStore: new RedisKeyStore(options),
    }),
    // Every key: its DUMP and its values read by type.
    dump: async () => {
      const client = new Redis(redis.url);
      try {
        const parts: Buffer[] = [];
        for (const key of await client.keys(`${keyPrefix}:*`)) {
          const dumped = await client.dumpBuffer(key);
          if (dumped) parts.push(dumped);
          const type = await client.type(key);
          const values =
            type === "string"
              ? [(await client.get(key)) ?? ""]
              : type === "list"
                ? await client.lrange(key, 0, -1)
                : type === "hash"
                  ? Object.values(await client.hgetall(key))
                  : type === "stream"
                    ? (await client.xrange(key, "-", "+")).flatMap(([, fields]) => fields)
                    : type === "zset"
                      ? await client.zrange(key, 0, -1)
                      : [];
          parts.push(...values.map((v) => Buffer.from(v)));
        }
        return Buffer.concat(parts);
      } finally {
        client.disconnect();
      }
    },
  };
}

/** The bytes raw, as hex (PostgreSQL bytea as text), or as base64 (Redis values are JSON; Lua's cjson writes "/" as "\/"). */
function hasBytes(haystack: Buffer, needle: Uint8Array): boolean {
  const bytes = Buffer.from(needle);
  const base64 = bytes.toString("base64");
  return [
    bytes,
    Buffer.from(bytes.toString("hex")),
    Buffer.from(base64),
    Buffer.from(base64.replaceAll("/", "\\/")),
  ].some((form) => haystack.includes(form));
}

const backends: [string, () => Backend][] = [
  ["memory", memoryBackend],
  ["SQLite", sqliteBackend],
  ["PostgreSQL", postgresBackend],
  ["Redis", redisBackend],
];

describe.each(backends)("crypto-shredding on %s", (_name, makeBackend) => {
  it("no plaintext of personal fields ever reaches the store; after forget the key is gone and replay shows the marker", async () => {
    const backend = makeBackend();
    const marker = randomUUID().replaceAll("-", "");
    const zelda = { name: `Zelda ${marker}`, diagnosis: `diag-${marker}` };
    const link = { name: `Link ${marker.slice(0, 8)}-kept`, diagnosis: "kept-diagnosis-x" };
    const start = async () => {
      const stores = backend.open();
      const silo = await Silo.start({ actors: [Patient], logger: silent, ...stores });
      return {
        silo,
        stores,
        stop: async () => {
          await silo.stop();
          await Promise.all([stores.store.close(), stores.snapshots.close(), stores.keyStore.close()]);
        },
      };
    };

    // Given two patients with personal data, snapshots written along the way and on stop.
    const first = await start();
    await first.silo.get(Patient, "zelda").admit(zelda.name, zelda.diagnosis);
    await first.silo.get(Patient, "zelda").move("B");
    await first.silo.get(Patient, "zelda").move("C");
    await first.silo.get(Patient, "link").admit(link.name, link.diagnosis);
    await first.silo.get(Patient, "link").move("B");
    const zeldaKey = await first.stores.keyStore.get("zelda");
    if (zeldaKey?.status !== "active") throw new Error("expected Zelda's key");
    const zeldaKeyBytes = Buffer.from(zeldaKey.key);
    // Snapshots are saved in the background: wait for the one taken at version 2.
    await expect.poll(async () => (await first.stores.snapshots.load("Patient/zelda"))?.version).toBe(2);
    await first.stop();

    const before = await backend.dump();
    expect(before.includes("$pii")).toBe(true);
    expect(before.includes(marker)).toBe(false);
    expect(before.includes(link.diagnosis)).toBe(false);
    expect(hasBytes(before, zeldaKeyBytes)).toBe(true);

    // When Zelda is forgotten, on a silo where her actor is live.
    const second = await start();
    expect((await second.silo.get(Patient, "zelda").chart()).name).toBe(zelda.name);
    await second.silo.forget("zelda");
    const chart = await second.silo.get(Patient, "zelda").chart();
    await second.stop();

    // Then her personal fields read as the marker, the rest and every version are intact ...
    expect(chart).toEqual({ name: redacted("zelda"), diagnosis: redacted("zelda"), ward: "C" });
    const after = await backend.dump();
    expect(after.includes(marker)).toBe(false);
    // ... her key is gone from the store's data, and her snapshot is gone (invalidated).
    expect(hasBytes(after, zeldaKeyBytes)).toBe(false);
    const third = await start();
    expect(await third.stores.snapshots.load("Patient/zelda")).toBeUndefined();
    expect(await third.stores.store.latestVersion("Patient/zelda")).toBe(3);
    expect((await third.silo.get(Patient, "zelda").chart()).diagnosis).toEqual(redacted("zelda"));
    expect(await third.silo.get(Patient, "link").chart()).toEqual({ ...link, ward: "B" });
    await third.stop();
  });
});
