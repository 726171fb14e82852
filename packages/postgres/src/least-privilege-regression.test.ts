import { makeEvents, type PostgresServer, startPostgresServer } from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresEventStore } from "./postgres-event-store.js";
import { PostgresSnapshotStore } from "./postgres-snapshot-store.js";

// Issue 15 item 8. Before least privilege, the stores wrote tables with plain SQL and functions that
// ran as the caller, so the role the silos used needed INSERT, UPDATE and DELETE on them, and with
// those it could raise an epoch, rewrite a snapshot or forge a tombstone by hand. Set up by hand
// (not by grantApplicationRole), so it tests where the writes go, not the helper.
let server: PostgresServer;
let admin: pg.Pool;
let app: pg.Pool;
const quietLogger = { warn: () => {} };

beforeAll(async () => {
  server = await startPostgresServer();
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
  admin.on("error", () => {});
  await admin.query(
    "CREATE ROLE owner_role LOGIN; GRANT CREATE ON DATABASE granary TO owner_role; CREATE ROLE app_role LOGIN",
  );
  const url = new URL(server.url);
  url.username = "owner_role";
  const owner = new PostgresEventStore({ connectionString: url.toString(), logger: quietLogger });
  await owner.latestVersion("warm-up");
  await owner.close();
  // The owner's grants: read every table, execute every function, nothing else.
  await admin.query(`SET ROLE owner_role; GRANT USAGE ON SCHEMA granary TO app_role;
    GRANT SELECT ON ALL TABLES IN SCHEMA granary TO app_role;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA granary TO app_role; RESET ROLE;`);
  url.username = "app_role";
  app = new pg.Pool({ connectionString: url.toString(), max: 2 });
  app.on("error", () => {});
});
afterAll(async () => {
  await app?.end();
  await admin?.end();
  await server?.stop();
});

describe("least privilege regression", () => {
  it("regression - a role granted only SELECT and EXECUTE appends, snapshots, deletes snapshots and purges, and cannot UPDATE streams or snapshots", async () => {
    // Given stores connected as the role that may only read and execute
    const options = { connectionString: app.options.connectionString as string, logger: quietLogger };
    const events = new PostgresEventStore({ ...options, groupCommit: false });
    const batched = new PostgresEventStore(options);
    const snapshots = new PostgresSnapshotStore(options);
    try {
      // When it uses them
      await events.append("Account/1", 0, makeEvents("Account/1", 0, 2), { epoch: 1 });
      await Promise.all([1, 2, 3].map((i) => batched.append(`Batch/${i}`, 0, makeEvents(`Batch/${i}`, 0, 1))));
      const state = { balance: 2 };
      await snapshots.save({
        stream: "Account/1",
        version: 2,
        snapshotVersion: 1,
        state,
        timestamp: new Date().toISOString(),
      });
      await snapshots.delete("Account/1");
      await events.purge("Account/1", { reason: "test", requestedBy: "dpo" });

      // Then every write went through, and the tables refuse the role's own writes
      expect(await events.tombstone("Account/1")).toMatchObject({ lastVersion: 2, reason: "test" });
      expect(await batched.latestVersion("Batch/3")).toBe(1);
      await expect(app.query("UPDATE granary.streams SET epoch = 1000")).rejects.toMatchObject({ code: "42501" });
      await expect(app.query(`UPDATE granary.snapshots SET state = '{}'`)).rejects.toMatchObject({ code: "42501" });
      await expect(
        app.query(
          `INSERT INTO granary.streams (namespace, stream, version, purged_at) VALUES ('default', 'x', 0, now())`,
        ),
      ).rejects.toMatchObject({ code: "42501" });
    } finally {
      await Promise.all([events.close(), batched.close(), snapshots.close()]);
    }
  });
});
