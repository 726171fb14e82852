import { ErrorCode, isGranaryError } from "@granary/core";
import { makeEvents, rejectionOf } from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ROLE, OWNER_ROLE, quietLogger, startTwoRoleServer, type TwoRoleServer } from "./__fixtures__/two-roles.js";
import { SchemaNotMigratedError } from "./errors.js";
import { grantApplicationRole } from "./grant-application-role.js";
import { LATEST_MIGRATION } from "./internal/migrations.js";
import { APPLICATION_FUNCTIONS } from "./internal/privileges.js";
import { encodeEvents } from "./internal/row-codec.js";
import { PostgresEventStore } from "./postgres-event-store.js";
import { PostgresKeyStore } from "./postgres-key-store.js";
import { PostgresSnapshotStore } from "./postgres-snapshot-store.js";

let db: TwoRoleServer;
let app: pg.Pool;
let events: PostgresEventStore;
let snapshots: PostgresSnapshotStore;

beforeAll(async () => {
  db = await startTwoRoleServer();
  app = new pg.Pool({ connectionString: db.appUrl, max: 2 });
  app.on("error", () => {});
  const options = { connectionString: db.appUrl, namespace: "lp", logger: quietLogger };
  events = new PostgresEventStore(options);
  snapshots = new PostgresSnapshotStore(options);
  // Given history written by the application role: a live stream with a snapshot, and a purged one.
  await events.append("Account/1", 0, makeEvents("Account/1", 0, 2), { epoch: 3 });
  await snapshots.save({
    stream: "Account/1",
    version: 2,
    snapshotVersion: 1,
    state: { balance: 2 },
    timestamp: new Date().toISOString(),
  });
  await events.append("User/1", 0, makeEvents("User/1", 0, 1));
  await events.purge("User/1", { reason: "GDPR #1", requestedBy: "dpo" });
});
afterAll(async () => {
  await events?.close();
  await snapshots?.close();
  await app?.end();
  await db?.stop();
});

/** The SQLSTATE a statement fails with as the application role. */
async function failureOf(text: string, values: unknown[] = []): Promise<string | undefined> {
  try {
    await app.query(text, values);
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error(`expected "${text}" to fail`);
}

const PERMISSION_DENIED = "42501";

describe("least privilege on PostgreSQL", () => {
  it("least privilege - the application role cannot INSERT, UPDATE, DELETE or TRUNCATE any table of Granary's schema", async () => {
    const { rows: columns } = await db.admin.query<{ table_name: string; column_name: string }>(
      `SELECT DISTINCT ON (table_name) table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'granary' AND is_identity = 'NO' ORDER BY table_name, ordinal_position`,
    );
    expect(columns.map((c) => c.table_name)).toEqual(
      expect.arrayContaining(["events", "streams", "snapshots", "snapshot_purges", "reminders", "subject_keys"]),
    );

    for (const { table_name: table, column_name: column } of columns) {
      const t = `granary."${table}"`;
      expect([table, await failureOf(`INSERT INTO ${t} DEFAULT VALUES`)]).toEqual([table, PERMISSION_DENIED]);
      expect([table, await failureOf(`UPDATE ${t} SET "${column}" = "${column}"`)]).toEqual([table, PERMISSION_DENIED]);
      expect([table, await failureOf(`DELETE FROM ${t}`)]).toEqual([table, PERMISSION_DENIED]);
      expect([table, await failureOf(`TRUNCATE ${t} CASCADE`)]).toEqual([table, PERMISSION_DENIED]);
    }
  });

  it("least privilege - raising an epoch, rewriting a snapshot, forging or lifting a tombstone and taking feed positions are refused, and nothing changes", async () => {
    const ns = "'lp'";
    expect(await failureOf(`UPDATE granary.streams SET epoch = 9223372036854775807 WHERE namespace = ${ns}`)).toBe(
      PERMISSION_DENIED,
    );
    expect(await failureOf(`UPDATE granary.snapshots SET state = '{"balance": 1000000}' WHERE namespace = ${ns}`)).toBe(
      PERMISSION_DENIED,
    );
    expect(
      await failureOf(
        `INSERT INTO granary.streams (namespace, stream, version, purged_at, purged_by, purge_reason)
         VALUES (${ns}, 'Account/2', 0, now(), 'someone', 'forged')`,
      ),
    ).toBe(PERMISSION_DENIED);
    expect(await failureOf(`UPDATE granary.streams SET purged_at = now() WHERE stream = 'Account/1'`)).toBe(
      PERMISSION_DENIED,
    );
    expect(await failureOf(`DELETE FROM granary.streams WHERE stream = 'User/1'`)).toBe(PERMISSION_DENIED);
    expect(await failureOf(`UPDATE granary.events SET data = '{}' WHERE namespace = ${ns}`)).toBe(PERMISSION_DENIED);
    expect(await failureOf("SELECT nextval('granary.events_position_seq')")).toBe(PERMISSION_DENIED);
    expect(await failureOf("SELECT setval('granary.events_position_seq', 1)")).toBe(PERMISSION_DENIED);

    expect(await events.highestEpoch("Account/1")).toBe(3);
    expect((await snapshots.load("Account/1"))?.state).toEqual({ balance: 2 });
    expect(await events.tombstone("Account/1")).toBeUndefined();
    expect(await events.tombstone("User/1")).toMatchObject({ reason: "GDPR #1", requestedBy: "dpo" });
    expect(await events.read("Account/1")).toHaveLength(2);
  });

  it("least privilege - the application role may execute exactly Granary's store functions: not the internal ones, and it cannot create any", async () => {
    const { rows } = await db.admin.query<{ name: string; executable: boolean; public: boolean }>(
      `SELECT p.proname AS name, has_function_privilege($1, p.oid, 'EXECUTE') AS executable,
              coalesce(aclexplode.grantee = 0, false) AS public
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       LEFT JOIN LATERAL aclexplode(p.proacl) ON aclexplode.grantee = 0 AND aclexplode.privilege_type = 'EXECUTE'
       WHERE n.nspname = 'granary' ORDER BY p.proname`,
      [APP_ROLE],
    );

    const executable = rows.filter((r) => r.executable).map((r) => r.name);
    expect(executable.sort()).toEqual([...APPLICATION_FUNCTIONS].sort());
    expect(rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(["explain_rejected_append", "reject_event_change", "reject_tombstone_change"]),
    );
    expect(rows.filter((r) => r.public)).toEqual([]);
    expect(
      await failureOf("SELECT * FROM granary.explain_rejected_append('lp', 'Account/1', 0, NULL, '[]'::jsonb)"),
    ).toBe(PERMISSION_DENIED);
    expect(await failureOf("CREATE FUNCTION granary.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'")).toBe(
      PERMISSION_DENIED,
    );
  });

  it("least privilege - every function that writes runs as the owner, with a search_path the caller cannot change", async () => {
    const { rows } = await db.admin.query<{ name: string; definer: boolean; config: string[] | null; owner: string }>(
      `SELECT p.proname AS name, p.prosecdef AS definer, p.proconfig AS config, pg_get_userbyid(p.proowner) AS owner
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'granary' AND p.proname = ANY ($1)`,
      [APPLICATION_FUNCTIONS.filter((f) => f !== "iso8601")],
    );

    expect(rows).toHaveLength(APPLICATION_FUNCTIONS.length - 1);
    for (const row of rows) {
      expect(row).toEqual({
        name: row.name,
        definer: true,
        config: ["search_path=pg_catalog, pg_temp"],
        owner: OWNER_ROLE,
      });
    }
  });

  it("least privilege - through Granary's functions an epoch cannot be raised without an event, nor events stored under versions or ids the guard did not check", async () => {
    const emptyAppend = "SELECT * FROM granary.append('lp', 'Account/1', 2, 9223372036854775807, '[]'::jsonb)";
    expect(await failureOf(emptyAppend)).toBe("GR007");
    const [event] = makeEvents("Account/1", 2, 1);
    const one = encodeEvents(event ? [event] : []);
    const appendMany = `SELECT * FROM granary.append_many('lp', ARRAY['Account/1'], ARRAY[2]::bigint[], ARRAY[NULL]::bigint[],
      $1::integer[], ARRAY[false], $2::jsonb, $3::integer[], $4::bigint[], $5::text[])`;
    // A version far ahead of the stream's, an id other than the event's, no events at all.
    expect(await failureOf(appendMany, [[1], one, [1], [1000], [event?.id]])).toBe("GR007");
    expect(await failureOf(appendMany, [[1], one, [1], [3], ["another-id"]])).toBe("GR007");
    expect(await failureOf(appendMany, [[0], "[]", [], [], []])).toBe("GR007");
    // An older epoch is fenced, as the store's own appends are.
    const fenced = "SELECT * FROM granary.append('lp', 'Account/1', 2, 1, $1::jsonb)";
    expect(await failureOf(fenced, [one])).toBe("GR002");

    expect(await events.highestEpoch("Account/1")).toBe(3);
    expect(await events.latestVersion("Account/1")).toBe(2);
    expect(await events.read("Account/1")).toHaveLength(2);
  });
});

describe("keys as the application role", () => {
  it("keys - a destroy whose VACUUM PostgreSQL skips (only the owner may vacuum before 17) is reported to the logger once", async () => {
    const { rows } = await db.admin.query<{ version: number }>(
      "SELECT current_setting('server_version_num')::int AS version",
    );
    const warnings: { obj: object; msg: string }[] = [];
    const keys = new PostgresKeyStore({
      connectionString: db.appUrl,
      namespace: "lp-keys",
      logger: { warn: (obj, msg) => warnings.push({ obj, msg }) },
    });
    try {
      await keys.getOrCreate("a");
      await keys.getOrCreate("b");

      expect(await keys.destroy("a")).toMatchObject({ status: "destroyed" });
      expect(await keys.destroy("b")).toMatchObject({ status: "destroyed" });

      if ((rows[0]?.version ?? 0) >= 170000) expect(warnings).toEqual([]);
      else {
        expect(warnings).toHaveLength(1);
        expect(warnings[0]?.msg).toContain("PostgreSQL skipped the VACUUM after a key destroy");
      }
    } finally {
      await keys.close();
    }
  });
});

describe("schema not migrated", () => {
  it("schema not migrated - the application role on a schema that does not exist gets SCHEMA_NOT_MIGRATED naming the fix, and creates nothing", async () => {
    const store = new PostgresEventStore({ connectionString: db.appUrl, schema: "never_made", logger: quietLogger });

    const error = await rejectionOf(store.append("s/1", 0, makeEvents("s/1", 0, 1)));

    expect(error).toBeInstanceOf(SchemaNotMigratedError);
    expect(isGranaryError(error, ErrorCode.SchemaNotMigrated)).toBe(true);
    expect(error.data).toEqual({ schema: "never_made", role: APP_ROLE, applied: 0, required: LATEST_MIGRATION });
    expect(error.message).toContain(
      `grantApplicationRole(ownerConnection, { role: "${APP_ROLE}", schema: "never_made" })`,
    );
    const { rows } = await db.admin.query("SELECT 1 FROM pg_namespace WHERE nspname = 'never_made'");
    expect(rows).toEqual([]);
    await store.close();
  });

  it("schema not migrated - the application role on a schema missing the newest migration gets SCHEMA_NOT_MIGRATED with the version it has", async () => {
    await grantApplicationRole(db.ownerUrl, { role: APP_ROLE, schema: "behind", logger: quietLogger });
    await db.admin.query(`DELETE FROM behind.migrations WHERE version = ${LATEST_MIGRATION}`);
    const store = new PostgresEventStore({ connectionString: db.appUrl, schema: "behind", logger: quietLogger });

    const error = await rejectionOf(store.latestVersion("s/1"));

    expect(error).toMatchObject({
      code: "SCHEMA_NOT_MIGRATED",
      data: { schema: "behind", role: APP_ROLE, applied: LATEST_MIGRATION - 1, required: LATEST_MIGRATION },
    });
    await store.close();
  });

  it("schema not migrated - a role that was never granted the schema gets SCHEMA_NOT_MIGRATED: it cannot even read the migrations", async () => {
    await db.admin.query("CREATE ROLE granary_stranger LOGIN");
    const store = new PostgresEventStore({ connectionString: db.urlAs("granary_stranger"), logger: quietLogger });

    const error = await rejectionOf(store.latestVersion("s/1"));

    expect(error).toMatchObject({
      code: "SCHEMA_NOT_MIGRATED",
      data: { schema: "granary", role: "granary_stranger", applied: undefined },
      message: expect.stringContaining(
        `role "granary_stranger" cannot read which migrations Granary's schema "granary" has`,
      ),
    });
    await store.close();
  });
});

describe("grantApplicationRole", () => {
  it("grantApplicationRole - takes back privileges granted by hand before, and may run again", async () => {
    await db.admin.query(`GRANT INSERT, UPDATE ON granary.streams TO ${APP_ROLE}`);
    expect(await hasPrivilege("granary.streams", "UPDATE")).toBe(true);

    await grantApplicationRole(db.ownerUrl, { role: APP_ROLE, logger: quietLogger });
    await grantApplicationRole(db.ownerUrl, { role: APP_ROLE, logger: quietLogger });

    expect(await hasPrivilege("granary.streams", "UPDATE")).toBe(false);
    expect(await hasPrivilege("granary.streams", "INSERT")).toBe(false);
    expect(await hasPrivilege("granary.streams", "SELECT")).toBe(true);
    expect(await events.latestVersion("Account/1")).toBe(2);
  });

  it("grantApplicationRole - refuses a role that does not exist, a superuser, the owner itself, and a connection that does not own the schema", async () => {
    const refusal = async (owner: string, role: string) =>
      rejectionOf(grantApplicationRole(owner, { role, logger: quietLogger }));

    expect(await refusal(db.ownerUrl, "nobody")).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining('role "nobody" does not exist: create it (CREATE ROLE "nobody" LOGIN'),
    });
    expect(await refusal(db.ownerUrl, "postgres")).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("is a superuser"),
    });
    expect(await refusal(db.ownerUrl, OWNER_ROLE)).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining('owns schema "granary"'),
    });
    expect(await refusal(db.appUrl, APP_ROLE)).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining(`role "${APP_ROLE}", which this connection uses, does not own schema "granary"`),
    });
    await expect(grantApplicationRole(db.ownerUrl, { role: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await hasPrivilege("granary.streams", "SELECT")).toBe(true);
  });
});

async function hasPrivilege(table: string, privilege: string): Promise<boolean> {
  const { rows } = await db.admin.query<{ has: boolean }>("SELECT has_table_privilege($1, $2, $3) AS has", [
    APP_ROLE,
    table,
    privilege,
  ]);
  return rows[0]?.has === true;
}
