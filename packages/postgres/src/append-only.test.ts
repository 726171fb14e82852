import { makeEvents, type PostgresServer, startPostgresServer } from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresEventStore } from "./postgres-event-store.js";
import { PostgresSnapshotStore } from "./postgres-snapshot-store.js";

let server: PostgresServer;
let sql: pg.Pool;
let store: PostgresEventStore;
let snapshots: PostgresSnapshotStore;
const quietLogger = { warn: () => {} };

beforeAll(async () => {
  server = await startPostgresServer();
  sql = new pg.Pool({ connectionString: server.url, max: 3 });
  // Connections still closing when the server stops report an error; nothing to do about it.
  sql.on("error", () => {});
  store = new PostgresEventStore({ connectionString: server.url, namespace: "audit", logger: quietLogger });
  snapshots = new PostgresSnapshotStore({ connectionString: server.url, namespace: "audit", logger: quietLogger });
  await store.append("Account/1", 0, makeEvents("Account/1", 0, 3));
});
afterAll(async () => {
  await store?.close();
  await snapshots?.close();
  await sql?.end();
  await server?.stop();
});

async function sqlError(
  text: string,
  params: unknown[] = [],
): Promise<{ code?: string; message: string; hint?: string }> {
  try {
    await sql.query(text, params);
  } catch (error) {
    return error as { code?: string; message: string; hint?: string };
  }
  throw new Error(`expected "${text}" to fail`);
}

describe("append-only enforcement", () => {
  it("append-only - a raw UPDATE of an event fails with the trigger's error", async () => {
    const error = await sqlError(`UPDATE granary.events SET data = '{"n": 999}' WHERE namespace = 'audit'`);

    expect(error.code).toBe("GR005");
    expect(error.message).toContain("granary events are append-only: UPDATE");
    expect(error.hint).toContain("purge");
    const { rows } = await sql.query(`SELECT data FROM granary.events WHERE namespace = 'audit' AND version = 1`);
    expect(rows[0].data).toMatchObject({ n: 1 });
  });

  it("append-only - a raw DELETE of an event fails with the trigger's error", async () => {
    const error = await sqlError(`DELETE FROM granary.events WHERE namespace = 'audit'`);

    expect(error).toMatchObject({ code: "GR005", message: expect.stringContaining("append-only: DELETE") });
    expect(await store.latestVersion("Account/1")).toBe(3);
    expect(await store.read("Account/1")).toHaveLength(3);
  });

  it("append-only - TRUNCATE of events or streams fails", async () => {
    expect(await sqlError("TRUNCATE granary.events")).toMatchObject({ code: "GR005" });
    expect(await sqlError("TRUNCATE granary.streams CASCADE")).toMatchObject({ code: "GR005" });
  });

  it("append-only - setting granary.purge by hand does not allow deleting a stream that has no tombstone", async () => {
    const client = await sql.connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL granary.purge = 'on'");
      await expect(client.query(`DELETE FROM granary.events WHERE namespace = 'audit'`)).rejects.toMatchObject({
        code: "GR005",
      });
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
    expect(await store.read("Account/1")).toHaveLength(3);
  });

  it("purge - leaves an audited tombstone row (who, when, why), deletes payloads and snapshot, and the tombstone is permanent", async () => {
    await store.append(
      "User/7",
      0,
      makeEvents("User/7", 0, 2, () => ({ data: { email: "ada@example.com" } })),
    );
    await snapshots.save({
      stream: "User/7",
      version: 2,
      snapshotVersion: 1,
      state: { email: "ada@example.com" },
      timestamp: new Date().toISOString(),
    });

    const tombstone = await store.purge("User/7", { reason: "GDPR request #7", requestedBy: "dpo@example.com" });

    const { rows: streams } = await sql.query(
      `SELECT version, purged_at, purged_by, purge_reason FROM granary.streams WHERE namespace = 'audit' AND stream = 'User/7'`,
    );
    expect(streams).toEqual([
      {
        version: "2",
        purged_at: new Date(tombstone.purgedAt),
        purged_by: "dpo@example.com",
        purge_reason: "GDPR request #7",
      },
    ]);
    const { rows: left } = await sql.query(
      `SELECT count(*)::int AS n FROM granary.events WHERE namespace = 'audit' AND stream = 'User/7'`,
    );
    expect(left[0].n).toBe(0);
    expect(await snapshots.load("User/7")).toBeUndefined();
    expect(await sqlError(`UPDATE granary.streams SET purged_at = NULL WHERE stream = 'User/7'`)).toMatchObject({
      code: "GR005",
      message: expect.stringContaining("tombstones are permanent"),
    });
    expect(await sqlError(`DELETE FROM granary.streams WHERE stream = 'User/7'`)).toMatchObject({ code: "GR005" });
    expect(await store.read("Account/1")).toHaveLength(3);
  });

  it("purge - needs a reason and who asked", async () => {
    await expect(store.purge("Account/1", { reason: "", requestedBy: "dpo" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(store.purge("Account/1", { reason: "x" } as never)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect(await store.tombstone("Account/1")).toBeUndefined();
  });

  it("jsonb - operators can query event data and metadata with SQL", async () => {
    const { rows } = await sql.query(
      `SELECT stream, version, data->>'label' AS label, metadata->>'userId' AS user_id
       FROM granary.events WHERE namespace = 'audit' AND data @> '{"n": 2}'`,
    );

    expect(rows).toEqual([{ stream: "Account/1", version: "2", label: "event 2 of Account/1", user_id: "user-1" }]);
  });
});
