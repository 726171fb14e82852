import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3, { type Database } from "better-sqlite3";
import { runMigrations } from "./migrations.js";
import type { ResolvedSqliteOptions } from "./sqlite-options.js";

const IN_MEMORY = ":memory:";

/** Opens a connection with Granary's pragmas and the current schema. */
export function openDatabase(options: Pick<ResolvedSqliteOptions, "path" | "synchronous" | "busyTimeoutMs">): Database {
  if (options.path !== IN_MEMORY) mkdirSync(dirname(options.path), { recursive: true });
  const db = new BetterSqlite3(options.path);
  try {
    // busy_timeout first: switching to WAL and migrating take locks another process may hold.
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous}`);
    // Deleted rows are overwritten with zeros, so a purged stream's payloads do not linger in free
    // pages of the file (purge also truncates the WAL).
    db.pragma("secure_delete = ON");
    runMigrations(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
