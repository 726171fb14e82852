import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyStoreConformance } from "@granary/testing";
import { SqliteKeyStore } from "./sqlite-key-store.js";

const dir = join(tmpdir(), `granary-sqlite-keys-${randomUUID()}`);
let path = "";

keyStoreConformance("SqliteKeyStore", {
  reset: async () => {
    path = join(dir, `${randomUUID()}.db`);
  },
  teardown: async () => rmSync(dir, { recursive: true, force: true }),
  open: async ({ namespace }) => new SqliteKeyStore({ path, namespace }),
  // The database file and its WAL, as they are on disk.
  dump: async () =>
    Buffer.concat([path, `${path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file))),
});
