import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventStoreConformance, snapshotStoreConformance } from "@granary/testing";
import BetterSqlite3 from "better-sqlite3";
import { SqliteEventStore } from "./sqlite-event-store.js";
import { SqliteSnapshotStore } from "./sqlite-snapshot-store.js";

const dir = join(tmpdir(), `granary-sqlite-conformance-${randomUUID()}`);
let path = "";
const reset = async (): Promise<void> => {
  path = join(dir, `${randomUUID()}.db`);
};
const teardown = async (): Promise<void> => rmSync(dir, { recursive: true, force: true });

eventStoreConformance("SqliteEventStore", {
  reset,
  teardown,
  open: async ({ namespace, upcasters }) => new SqliteEventStore({ path, namespace, ...(upcasters && { upcasters }) }),
  corrupt: async (_store, stream, version, namespace) => corruptRow(path, namespace, stream, version),
});

snapshotStoreConformance("SqliteSnapshotStore", {
  reset,
  teardown,
  open: async ({ namespace }) => new SqliteSnapshotStore({ path, namespace }),
});

/** Writes data that is not JSON, the way a buggy tool with raw access would (guard set by hand). */
function corruptRow(file: string, namespace: string, stream: string, version: number): void {
  const db = new BetterSqlite3(file);
  db.transaction(() => {
    db.exec("UPDATE purge_guard SET active = 1");
    db.prepare("UPDATE events SET data = '{not json' WHERE namespace = ? AND stream = ? AND version = ?").run(
      namespace,
      stream,
      version,
    );
    db.exec("UPDATE purge_guard SET active = 0");
  })();
  db.close();
}
