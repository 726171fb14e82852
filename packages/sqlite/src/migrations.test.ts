import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "./database.js";
import { runMigrations } from "./migrations.js";
import { MIGRATIONS } from "./schema.js";

const dir = join(tmpdir(), `granary-sqlite-migrations-${randomUUID()}`);
const options = (path: string) => ({ path, synchronous: "FULL" as const, busyTimeoutMs: 5_000 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("migrations", () => {
  it("migrations - a new file gets every migration once, recorded in schema_migrations", () => {
    const db = openDatabase(options(join(dir, `${randomUUID()}.db`)));

    const rows = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all();

    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    db.close();
  });

  it("migrations - re-running on a current database applies nothing", () => {
    const db = openDatabase(options(join(dir, `${randomUUID()}.db`)));

    expect(runMigrations(db)).toEqual([]);
    expect(db.prepare("SELECT count(*) AS n FROM schema_migrations").get()).toEqual({ n: MIGRATIONS.length });
    db.close();
  });

  it("migrations - a later migration is applied on open of an older file, earlier ones are not re-run", () => {
    const path = join(dir, `${randomUUID()}.db`);
    openDatabase(options(path)).close();
    const db = new BetterSqlite3(path);
    const next = { version: MIGRATIONS.length + 1, name: "test column", sql: "CREATE TABLE extra (x INTEGER)" };

    const applied = runMigrations(db, [...MIGRATIONS, next]);

    expect(applied).toEqual([next.version]);
    expect(runMigrations(db, [...MIGRATIONS, next])).toEqual([]);
    db.close();
  });

  it("migrations - a second connection opening a migrated file applies nothing and sees the same schema", () => {
    const path = join(dir, `${randomUUID()}.db`);
    const first = openDatabase(options(path));

    const second = openDatabase(options(path));

    expect(runMigrations(second)).toEqual([]);
    expect(second.prepare("SELECT count(*) AS n FROM schema_migrations").get()).toEqual({ n: MIGRATIONS.length });
    expect(second.pragma("journal_mode", { simple: true })).toBe("wal");
    first.close();
    second.close();
  });
});
