import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reminderStoreConformance } from "@granary/testing";
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SqliteReminderStore } from "./sqlite-reminder-store.js";

const dir = join(tmpdir(), `granary-sqlite-reminders-${randomUUID()}`);
let path = "";

reminderStoreConformance("SqliteReminderStore", {
  reset: async () => {
    path = join(dir, `${randomUUID()}.db`);
  },
  teardown: async () => rmSync(dir, { recursive: true, force: true }),
  open: async ({ namespace }) => new SqliteReminderStore({ path, namespace }),
});

describe("SqliteReminderStore", () => {
  it("a poll reads the due-time index, not the table", () => {
    path = join(dir, `${randomUUID()}.db`);
    const store = new SqliteReminderStore({ path });
    const db = new BetterSqlite3(path);
    const plan = db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT * FROM reminders WHERE namespace = ? AND partition = ? AND due_at <= ? ORDER BY due_at LIMIT ?",
      )
      .all("default", 1, 0, 10) as { detail: string }[];
    db.close();
    void store.close();

    expect(plan.map((row) => row.detail).join("\n")).toMatch(/USING INDEX reminders_due/);
  });
});
