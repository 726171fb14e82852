import type { Database } from "better-sqlite3";
import { MIGRATIONS, type Migration } from "./schema.js";

/**
 * Brings the database to the newest schema. Runs under `BEGIN IMMEDIATE` (the write lock), so when
 * two processes open the same new file at once, one applies each migration and the other, after
 * waiting for the lock, finds it recorded and skips it.
 *
 * @returns the versions this call applied (empty when the schema was current)
 */
export function runMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const applied: number[] = [];
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`);
    const done = new Set(
      db
        .prepare<[], { version: number }>("SELECT version FROM schema_migrations")
        .all()
        .map((row) => row.version),
    );
    const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
      applied.push(migration.version);
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  }
  return applied;
}
