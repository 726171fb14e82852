import {
  eventStoreConformance,
  keyStoreConformance,
  projectionStoreConformance,
  reminderStoreConformance,
  snapshotStoreConformance,
} from "@granary/testing";
import { afterAll, beforeAll } from "vitest";
import { corruptEvent } from "./__fixtures__/corrupt-event.js";
import { quietLogger, startTwoRoleServer, type TwoRoleServer } from "./__fixtures__/two-roles.js";
import { PostgresEventStore } from "./postgres-event-store.js";
import { PostgresKeyStore } from "./postgres-key-store.js";
import { PostgresProjectionStore } from "./postgres-projection-store.js";
import { PostgresReminderStore } from "./postgres-reminder-store.js";
import { PostgresSnapshotStore } from "./postgres-snapshot-store.js";

// Every store's whole contract, connected as the least-privilege application role: it may only
// read and execute Granary's functions, so each write the suites make goes through them.
let db: TwoRoleServer;

beforeAll(async () => {
  db = await startTwoRoleServer();
});
afterAll(async () => {
  await db?.stop();
});

const options = (namespace: string) => ({ connectionString: db.appUrl, namespace, logger: quietLogger });

for (const groupCommit of [true, false]) {
  eventStoreConformance(`PostgresEventStore as the application role${groupCommit ? "" : ", without group commit"}`, {
    open: async ({ namespace, upcasters }) =>
      new PostgresEventStore({ ...options(namespace), groupCommit, ...(upcasters && { upcasters }) }),
    corrupt: (_store, stream, version, namespace) => corruptEvent(db.admin, stream, version, namespace),
  });
}

snapshotStoreConformance("PostgresSnapshotStore as the application role", {
  open: async ({ namespace }) => new PostgresSnapshotStore(options(namespace)),
});

reminderStoreConformance("PostgresReminderStore as the application role", {
  open: async ({ namespace }) => new PostgresReminderStore(options(namespace)),
});

projectionStoreConformance("PostgresProjectionStore as the application role", {
  transactions: true,
  open: async ({ namespace }) => ({
    events: new PostgresEventStore(options(namespace)),
    projections: new PostgresProjectionStore(options(namespace)),
  }),
});

keyStoreConformance("PostgresKeyStore as the application role", {
  watchesDestroyed: true,
  open: async ({ namespace }) => new PostgresKeyStore(options(namespace)),
  dump: async () => {
    const { rows } = await db.admin.query<{ key: Buffer | null; row: string }>(
      "SELECT key, row_to_json(k)::text AS row FROM granary.subject_keys k",
    );
    return Buffer.concat(rows.flatMap((r) => [Buffer.from(r.row), ...(r.key ? [r.key] : [])]));
  },
});
