import { makeEvents, type PostgresServer, startPostgresServer } from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATEST_MIGRATION, MIGRATIONS } from "./internal/migrations.js";
import { projectionTablesSql } from "./internal/projection-schema.js";
import { PostgresEventStore } from "./postgres-event-store.js";
import { PostgresSnapshotStore } from "./postgres-snapshot-store.js";

let server: PostgresServer;
let databases = 0;
const quietLogger = { warn: () => {} };

beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.stop();
});

async function freshDatabase(): Promise<string> {
  databases += 1;
  return server.createDatabase(`migrations_${databases}`);
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

describe("migrations", () => {
  it("migrations - five stores starting at once on a fresh database migrate it exactly once and all work", async () => {
    for (let round = 0; round < 3; round++) {
      const url = await freshDatabase();
      const stores = Array.from(
        { length: 5 },
        (_, i) => new PostgresEventStore({ connectionString: url, namespace: `silo-${i}`, logger: quietLogger }),
      );

      // The first call of each store runs its migration; all five race.
      const results = await Promise.all(
        stores.map((store, i) => store.append(`s/${i}`, 0, makeEvents(`s/${i}`, 0, 2))),
      );

      expect(results.map((r) => r.version)).toEqual([2, 2, 2, 2, 2]);
      const applied = await query<{ version: number; name: string }>(
        url,
        "SELECT version, name FROM granary.migrations",
      );
      expect(applied).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("migrations - event and snapshot stores share one schema, created on first use by either", async () => {
    const url = await freshDatabase();
    const snapshots = new PostgresSnapshotStore({ connectionString: url, logger: quietLogger });
    const events = new PostgresEventStore({ connectionString: url, logger: quietLogger });

    await Promise.all([
      snapshots.save({
        stream: "s/1",
        version: 1,
        snapshotVersion: 1,
        state: [1, 2],
        timestamp: new Date().toISOString(),
      }),
      events.append("s/1", 0, makeEvents("s/1", 0, 1)),
    ]);

    expect((await snapshots.load("s/1"))?.state).toEqual([1, 2]);
    const tables = await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'granary' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      "events",
      "migrations",
      "projection_checkpoints",
      "projection_documents",
      "reminder_partitions",
      "reminders",
      "snapshot_purges",
      "snapshots",
      "streams",
      "subject_keys",
    ]);
    await Promise.all([snapshots.close(), events.close()]);
  });

  it("migrations - re-opening a migrated database applies nothing again", async () => {
    const url = await freshDatabase();
    const first = new PostgresEventStore({ connectionString: url, logger: quietLogger });
    await first.append("s/1", 0, makeEvents("s/1", 0, 1));
    await first.close();
    const before = await query<{ applied_at: Date }>(url, "SELECT applied_at FROM granary.migrations");

    const second = new PostgresEventStore({ connectionString: url, logger: quietLogger });
    expect(await second.latestVersion("s/1")).toBe(1);

    expect(await query(url, "SELECT applied_at FROM granary.migrations")).toEqual(before);
    expect(before).toHaveLength(LATEST_MIGRATION);
    await second.close();
  });

  it("migrations - stores with different schemas keep separate tables in one database", async () => {
    const url = await freshDatabase();
    const a = new PostgresEventStore({ connectionString: url, schema: "app_a", logger: quietLogger });
    const b = new PostgresEventStore({ connectionString: url, schema: "app_b", logger: quietLogger });

    await a.append("s/1", 0, makeEvents("s/1", 0, 3));
    await b.append("s/1", 0, makeEvents("s/1", 0, 1));

    expect(await a.latestVersion("s/1")).toBe(3);
    expect(await b.latestVersion("s/1")).toBe(1);
    expect(await b.readAll(0)).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });

  it("migrations - a database from before least privilege (functions run as their caller, executable by PUBLIC) ends with the functions and grants of a fresh one", async () => {
    // Given a database at migration 4 as Granary left it then: no function ran as its owner or was
    // withheld from PUBLIC, and the projection store had made its tables itself
    const fresh = await freshDatabase();
    const old = await freshDatabase();
    const first = new PostgresEventStore({ connectionString: fresh, logger: quietLogger });
    await first.latestVersion("s/1");
    await first.close();
    const client = new pg.Client(old);
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA granary; CREATE TABLE granary.migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const migration of MIGRATIONS.filter((m) => m.version <= 4)) {
        await client.query(migration.sql('"granary"'));
        await client.query("INSERT INTO granary.migrations (version, name) VALUES ($1, $2)", [
          migration.version,
          migration.name,
        ]);
      }
      await client.query(projectionTablesSql('"granary"'));
      await client.query(`DO $$ DECLARE f regprocedure; BEGIN
        FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'granary'::regnamespace LOOP
          EXECUTE format('ALTER FUNCTION %s SECURITY INVOKER RESET ALL', f);
          EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
        END LOOP; END $$`);
    } finally {
      await client.end();
    }

    // When a store migrates it
    const store = new PostgresEventStore({ connectionString: old, logger: quietLogger });
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));
    await store.close();

    // Then every function is as a fresh database has it
    const functions = `SELECT p.proname, pg_get_functiondef(p.oid) AS definition, p.proacl::text AS grants
      FROM pg_proc p WHERE p.pronamespace = 'granary'::regnamespace ORDER BY p.proname`;
    expect(await query(old, functions)).toEqual(await query(fresh, functions));
  });

  it("migrations - a database migrated by a newer Granary is used as is, with a warning", async () => {
    const url = await freshDatabase();
    const first = new PostgresEventStore({ connectionString: url, logger: quietLogger });
    await first.append("s/1", 0, makeEvents("s/1", 0, 1));
    await first.close();
    await query(
      url,
      `INSERT INTO granary.migrations (version, name) VALUES (${LATEST_MIGRATION + 1}, 'from the future')`,
    );
    const warnings: unknown[] = [];

    const store = new PostgresEventStore({ connectionString: url, logger: { warn: (obj) => warnings.push(obj) } });

    expect(await store.latestVersion("s/1")).toBe(1);
    expect(warnings).toEqual([{ schema: "granary", applied: LATEST_MIGRATION + 1, known: LATEST_MIGRATION }]);
    await store.close();
  });
});
