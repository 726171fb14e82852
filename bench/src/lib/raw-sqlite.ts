import BetterSqlite3, { type Database } from "better-sqlite3";

/**
 * The raw SQLite baseline's table: the same columns, constraints and feed index as the Granary
 * store's `events` table, without the store around it (no stream head, no dedup lookups, no savepoints).
 */
const RAW_SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace      TEXT    NOT NULL,
    stream         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    id             TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    timestamp      TEXT    NOT NULL,
    UNIQUE (namespace, stream, version),
    UNIQUE (namespace, id)
  ) STRICT;
  CREATE INDEX IF NOT EXISTS events_feed ON events (namespace, position);
`;

/** Opens a database the way the Granary store does: WAL and the given synchronous level. */
export function openRawDatabase(path: string, synchronous: "FULL" | "NORMAL" = "FULL"): Database {
  const db = new BetterSqlite3(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(RAW_SCHEMA);
  return db;
}

export type RawEventRow = [
  namespace: string,
  stream: string,
  version: number,
  id: string,
  type: string,
  schemaVersion: number,
  data: string,
  metadata: string,
  timestamp: string,
];

export const RAW_INSERT = `INSERT INTO events (namespace, stream, version, id, type, schema_version, data, metadata, timestamp)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
