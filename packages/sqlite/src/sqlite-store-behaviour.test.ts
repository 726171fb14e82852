import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordedEvent } from "@granary/core";
import { ErrorCode } from "@granary/core";
import { eventually, makeEvents, rejectionOf } from "@granary/testing";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "./database.js";
import { SqliteEventStore } from "./sqlite-event-store.js";
import { resolveSqliteOptions } from "./sqlite-options.js";
import { SqliteSnapshotStore } from "./sqlite-snapshot-store.js";

const dir = join(tmpdir(), `granary-sqlite-behaviour-${randomUUID()}`);
const toClose: { close(): unknown }[] = [];
const newPath = (): string => join(dir, `${randomUUID()}.db`);
function track<T extends { close(): unknown }>(closable: T): T {
  toClose.push(closable);
  return closable;
}
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SqliteEventStore - append-only", () => {
  it("append-only - a raw UPDATE of an event is refused by the database", async () => {
    const path = newPath();
    const store = track(new SqliteEventStore({ path }));
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));
    const raw = track(new BetterSqlite3(path));

    expect(() => raw.prepare("UPDATE events SET data = '{}'").run()).toThrow(/append-only/);
    expect(() => raw.prepare("UPDATE events SET stream = 's/2'").run()).toThrow(/append-only/);
    expect((await store.read("s/1"))[0]?.data).toMatchObject({ n: 1 });
  });

  it("append-only - a raw DELETE of an event is refused by the database", async () => {
    const path = newPath();
    const store = track(new SqliteEventStore({ path }));
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));
    const raw = track(new BetterSqlite3(path));

    expect(() => raw.prepare("DELETE FROM events").run()).toThrow(/append-only/);
    expect(await store.read("s/1")).toHaveLength(2);
  });

  it("append-only - a purge's tombstone cannot be removed or rewritten", async () => {
    const path = newPath();
    const store = track(new SqliteEventStore({ path }));
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));
    await store.purge("s/1", { reason: "gdpr", requestedBy: "dpo" });
    const raw = track(new BetterSqlite3(path));

    expect(() => raw.prepare("DELETE FROM streams").run()).toThrow(/tombstone is permanent/);
    expect(() => raw.prepare("UPDATE streams SET purged_at = NULL").run()).toThrow(/tombstone is permanent/);
    expect(await store.tombstone("s/1")).toMatchObject({ reason: "gdpr", requestedBy: "dpo" });
  });

  it("purge - removes the payload rows from the file and the stream's snapshot with them", async () => {
    const path = newPath();
    const store = track(new SqliteEventStore({ path }));
    const snapshots = track(new SqliteSnapshotStore({ path }));
    await store.append("User/1", 0, makeEvents("User/1", 0, 2));
    await snapshots.save({ stream: "User/1", version: 2, snapshotVersion: 1, state: { email: "a@b" }, timestamp: "t" });

    await store.purge("User/1", { reason: "gdpr", requestedBy: "dpo" });

    const raw = track(new BetterSqlite3(path, { readonly: true }));
    expect(raw.prepare("SELECT count(*) AS n FROM events WHERE stream = 'User/1'").get()).toEqual({ n: 0 });
    expect(await snapshots.load("User/1")).toBeUndefined();
  });
});

describe("SqliteEventStore - durability and configuration", () => {
  it("durability - events written, then the store closed and re-opened on the same file, read back unchanged", async () => {
    const path = newPath();
    const first = new SqliteEventStore({ path });
    const events = makeEvents("s/1", 0, 3);
    await first.append("s/1", 0, events);
    await first.close();

    const reopened = track(new SqliteEventStore({ path }));

    expect(await reopened.read("s/1")).toEqual(events.map((e) => ({ ...e, position: expect.any(Number) })));
  });

  it("configuration - connections use WAL with synchronous FULL by default, NORMAL when asked", () => {
    const path = newPath();
    const byDefault = track(openDatabase(resolveSqliteOptions({ path })));
    const normal = track(openDatabase(resolveSqliteOptions({ path, synchronous: "NORMAL" })));

    expect(byDefault.pragma("journal_mode", { simple: true })).toBe("wal");
    // PRAGMA synchronous: 2 = FULL, 1 = NORMAL.
    expect(byDefault.pragma("synchronous", { simple: true })).toBe(2);
    expect(normal.pragma("synchronous", { simple: true })).toBe(1);
    expect(byDefault.pragma("busy_timeout", { simple: true })).toBe(5_000);
  });

  it("configuration - the folder of a new database file is created", async () => {
    const path = join(dir, "nested", randomUUID(), "granary.db");

    const store = track(new SqliteEventStore({ path }));

    await store.append("s/1", 0, makeEvents("s/1", 0, 1));
    expect(await store.latestVersion("s/1")).toBe(1);
  });

  it("configuration - an invalid option fails at construction with InvalidConfigurationError", () => {
    expect(() => new SqliteEventStore({ path: newPath(), synchronous: "OFF" as "FULL" })).toThrow(/`synchronous`/);
  });

  it("locking - when another connection holds the write lock past busyTimeoutMs, the batch fails and writes nothing", async () => {
    const path = newPath();
    const store = track(new SqliteEventStore({ path, busyTimeoutMs: 0 }));
    const locker = track(new BetterSqlite3(path));
    locker.exec("BEGIN IMMEDIATE");

    const results = await Promise.allSettled([
      store.append("s/1", 0, makeEvents("s/1", 0, 1)),
      store.append("s/2", 0, makeEvents("s/2", 0, 1)),
    ]);
    locker.exec("ROLLBACK");

    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(await store.latestVersion("s/1")).toBe(0);
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));
    expect(await store.latestVersion("s/1")).toBe(1);
  });

  it("closed store - calls after close fail with ShuttingDownError", async () => {
    const store = new SqliteEventStore({ path: newPath() });
    await store.close();

    expect(await rejectionOf(store.append("s/1", 0, makeEvents("s/1", 0, 1)))).toMatchObject({
      code: ErrorCode.ShuttingDown,
    });
    expect(await rejectionOf(store.read("s/1"))).toMatchObject({ code: ErrorCode.ShuttingDown });
  });
});

describe("SqliteEventStore - group commit", () => {
  it("group commit - 200 concurrent appends to 200 streams share far fewer transactions, and all are readable", async () => {
    const store = track(new SqliteEventStore({ path: newPath() }));
    const before = store.commitStats;

    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.append(`g/${i}`, 0, makeEvents(`g/${i}`, 0, 2))),
    );

    const after = store.commitStats;
    expect(after.jobs - before.jobs).toBe(200);
    expect(after.transactions - before.transactions).toBeLessThanOrEqual(10);
    expect(new Set(results.map((r) => r.position)).size).toBe(200);
    for (let i = 0; i < 200; i++) expect(await store.latestVersion(`g/${i}`)).toBe(2);
    expect(await store.readAll(0, 1_000)).toHaveLength(400);
  });

  it("group commit - a refused append in a batch rolls back alone; the others in the same transaction commit", async () => {
    const store = track(new SqliteEventStore({ path: newPath() }));
    await store.append("g/conflict", 0, makeEvents("g/conflict", 0, 1));
    const before = store.commitStats.transactions;

    const results = await Promise.allSettled([
      store.append("g/a", 0, makeEvents("g/a", 0, 1)),
      store.append("g/conflict", 0, makeEvents("g/conflict", 0, 3)),
      store.append("g/b", 0, makeEvents("g/b", 0, 1)),
      store.append("g/conflict", 1, makeEvents("g/conflict", 1, 1), { epoch: 2 }),
      store.append("g/conflict", 2, makeEvents("g/conflict", 2, 1), { epoch: 1 }),
    ]);

    expect(store.commitStats.transactions - before).toBe(1);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled", "rejected"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.VersionConflict });
    expect((results[4] as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.FencedWrite });
    expect(await store.latestVersion("g/conflict")).toBe(2);
    expect(await store.latestVersion("g/a")).toBe(1);
    expect(await store.latestVersion("g/b")).toBe(1);
  });

  it("group commit - appends queued in one batch to the same stream see each other's writes", async () => {
    const store = track(new SqliteEventStore({ path: newPath() }));

    const results = await Promise.all([
      store.append("g/1", 0, makeEvents("g/1", 0, 1)),
      store.append("g/1", 1, makeEvents("g/1", 1, 2)),
    ]);

    expect(results.map((r) => r.version)).toEqual([1, 3]);
  });

  it("feed - a subscriber on one store sees appends committed by another store on the same file", async () => {
    const path = newPath();
    const reader = track(new SqliteEventStore({ path }));
    const writer = track(new SqliteEventStore({ path }));
    const seen: RecordedEvent[] = [];
    track(reader.subscribe({ fromPosition: 0, onEvent: (e) => void seen.push(e) }));

    await writer.append("s/1", 0, makeEvents("s/1", 0, 3));

    await eventually(() => seen.length === 3, "the reader's subscriber saw the writer's events");
    expect(seen.map((e) => e.version)).toEqual([1, 2, 3]);
  });
});
