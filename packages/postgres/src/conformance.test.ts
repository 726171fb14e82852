import {
  eventStoreConformance,
  reminderStoreConformance,
  snapshotStoreConformance,
  usePostgresServer,
} from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { corruptEvent } from "./__fixtures__/corrupt-event.js";
import { PostgresEventStore } from "./postgres-event-store.js";
import { PostgresReminderStore } from "./postgres-reminder-store.js";
import { PostgresSnapshotStore } from "./postgres-snapshot-store.js";

// One server for the file; the suites give every test its own namespace.
const server = usePostgresServer();
let admin: pg.Pool;
const quietLogger = { warn: () => {} };

beforeAll(() => {
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
  // Connections still closing when the server stops report an error; nothing to do about it.
  admin.on("error", () => {});
});
afterAll(async () => {
  await admin?.end();
});

// Both append paths: group commit (the default) and one transaction per append.
for (const groupCommit of [true, false]) {
  eventStoreConformance(groupCommit ? "PostgresEventStore" : "PostgresEventStore without group commit", {
    open: async ({ namespace, upcasters }) =>
      new PostgresEventStore({
        connectionString: server.url,
        namespace,
        logger: quietLogger,
        groupCommit,
        ...(upcasters && { upcasters }),
      }),
    corrupt: (_store, stream, version, namespace) => corruptEvent(admin, stream, version, namespace),
  });
}

snapshotStoreConformance("PostgresSnapshotStore", {
  open: async ({ namespace }) =>
    new PostgresSnapshotStore({ connectionString: server.url, namespace, logger: quietLogger }),
});

reminderStoreConformance("PostgresReminderStore", {
  open: async ({ namespace }) =>
    new PostgresReminderStore({ connectionString: server.url, namespace, logger: quietLogger }),
});
