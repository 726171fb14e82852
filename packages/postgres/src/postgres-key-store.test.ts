import { keyStoreConformance, usePostgresServer } from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { PostgresKeyStore } from "./postgres-key-store.js";

const server = usePostgresServer();
let admin: pg.Pool;
const quietLogger = { warn: () => {} };

beforeAll(() => {
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
  admin.on("error", () => {});
});
afterAll(async () => {
  await admin?.end();
});

keyStoreConformance("PostgresKeyStore", {
  watchesDestroyed: true,
  open: async ({ namespace }) => new PostgresKeyStore({ connectionString: server.url, namespace, logger: quietLogger }),
  // Every row of the key table, every column, as PostgreSQL returns it.
  dump: async () => {
    const { rows } = await admin.query<{ key: Buffer | null; row: string }>(
      "SELECT key, row_to_json(k)::text AS row FROM granary.subject_keys k",
    );
    return Buffer.concat(rows.flatMap((r) => [Buffer.from(r.row), ...(r.key ? [r.key] : [])]));
  },
});
