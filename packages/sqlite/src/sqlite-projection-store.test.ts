import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectionStoreConformance } from "@granary/testing";
import { SqliteEventStore } from "./sqlite-event-store.js";
import { SqliteProjectionStore } from "./sqlite-projection-store.js";

const dir = join(tmpdir(), `granary-sqlite-projections-${randomUUID()}`);
let path = "";

projectionStoreConformance("SqliteProjectionStore (shared connection)", {
  transactions: true,
  reset: async () => {
    path = join(dir, `${randomUUID()}.db`);
  },
  teardown: async () => rmSync(dir, { recursive: true, force: true }),
  open: async ({ namespace }) => {
    const events = new SqliteEventStore({ path, namespace });
    return { events, projections: events.openProjectionStore() };
  },
});

projectionStoreConformance("SqliteProjectionStore (own connection)", {
  transactions: true,
  reset: async () => {
    path = join(dir, `${randomUUID()}.db`);
  },
  teardown: async () => rmSync(dir, { recursive: true, force: true }),
  open: async ({ namespace }) => ({
    events: new SqliteEventStore({ path, namespace }),
    projections: new SqliteProjectionStore({ path, namespace }),
  }),
});
