import pg from "pg";

/** The raw baseline's schema: the Granary events table's columns, constraints and feed index. */
export const RAW_PG_SCHEMA = "bench_raw";

export async function createRawPostgresTable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS ${RAW_PG_SCHEMA};
      CREATE TABLE IF NOT EXISTS ${RAW_PG_SCHEMA}.events (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        namespace text NOT NULL,
        stream text NOT NULL,
        version bigint NOT NULL,
        id text NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        "timestamp" timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_key UNIQUE (namespace, stream, version),
        CONSTRAINT events_id_key UNIQUE (namespace, id)
      );
      CREATE INDEX IF NOT EXISTS events_feed_idx ON ${RAW_PG_SCHEMA}.events (namespace, position);
    `);
  } finally {
    await client.end();
  }
}

const COLUMNS = "namespace, stream, version, id, type, schema_version, data, metadata, timestamp";
const PARAMS_PER_ROW = 8;

/** `INSERT ... VALUES (...), (...)` for `rows` rows (namespace is a literal). */
export function multiRowInsert(rows: number): string {
  const values: string[] = [];
  for (let r = 0; r < rows; r++) {
    const p = r * PARAMS_PER_ROW;
    values.push(
      `('default', $${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}::jsonb, $${p + 7}::jsonb, $${p + 8}::timestamptz)`,
    );
  }
  return `INSERT INTO ${RAW_PG_SCHEMA}.events (${COLUMNS}) VALUES ${values.join(", ")}`;
}

/** The parameters of one row: stream, version, id, type, schema_version, data, metadata, timestamp. */
export function rowParams(
  id: string,
  stream: string,
  version: number,
  type = "Deposited",
  data = '{"amount":1}',
): unknown[] {
  return [
    stream,
    version,
    id,
    type,
    1,
    data,
    JSON.stringify({ correlationId: id, causationId: id, commandId: id }),
    new Date().toISOString(),
  ];
}
