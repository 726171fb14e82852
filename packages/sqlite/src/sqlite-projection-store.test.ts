import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectionStoreConformance } from "@granary/testing";
import type { Database } from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { PROJECTION_CHECKPOINT_EVERY } from "./commit-pragmas.js";
import { SqliteEventStore } from "./sqlite-event-store.js";
import { SqliteProjectionStore } from "./sqlite-projection-store.js";

const dir = join(tmpdir(), `granary-sqlite-projections-${randomUUID()}`);
let path = "";

projectionStoreConformance("SqliteProjectionStore (shared connection)", {
  transactions: true,
  reset: async () => {
    path = join(dir, `${randomUUID()}.db`);
  },
  teardown: async () => rmSync(dir, { recursive: true, force: true }),
  open: async ({ namespace }) => {
    const events = new SqliteEventStore({ path, namespace });
    return { events, projections: events.openProjectionStore() };
  },
});

projectionStoreConformance("SqliteProjectionStore (own connection)", {
  transactions: true,
  reset: async () => {
    path = join(dir, `${randomUUID()}.db`);
  },
  teardown: async () => rmSync(dir, { recursive: true, force: true }),
  open: async ({ namespace }) => ({
    events: new SqliteEventStore({ path, namespace }),
    projections: new SqliteProjectionStore({ path, namespace }),
  }),
});

describe("projection commits skip the fsync, appends keep it", () => {
  it("a commit runs at synchronous=NORMAL and leaves the shared connection at FULL for appends", async () => {
    const events = new SqliteEventStore({ path: join(dir, `${randomUUID()}.db`) });
    const projections = events.openProjectionStore();
    let connection: Database | undefined;
    let during: unknown;
    try {
      await projections.commit("p@v1", {
        expectedPosition: 0,
        position: 1,
        epoch: 1,
        documents: new Map([["k", { n: 1 }]]),
        // The handler's own writes run inside the commit, on the event store's connection.
        transaction: (db) => {
          connection = db as Database;
          during = connection.pragma("synchronous", { simple: true });
        },
      });
      expect(during).toBe(1);
      expect(connection?.pragma("synchronous", { simple: true })).toBe(2);
      expect(await projections.getDocument("p@v1", "k")).toEqual({ n: 1 });
    } finally {
      await projections.close();
      await events.close();
    }
  });

  it("commitSynchronous: FULL fsyncs every commit; anything else is refused naming the option", async () => {
    const path = join(dir, `${randomUUID()}.db`);
    const full = new SqliteProjectionStore({ path, commitSynchronous: "FULL" });
    let during: unknown;
    await full.commit("p@v1", {
      expectedPosition: 0,
      position: 1,
      epoch: 1,
      transaction: (db) => {
        during = (db as Database).pragma("synchronous", { simple: true });
      },
    });
    await full.close();
    expect(during).toBe(2);
    expect(() => new SqliteProjectionStore({ path, commitSynchronous: "OFF" as never })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIGURATION", message: expect.stringContaining("commitSynchronous") }),
    );
  });
});

describe("projection commits leave the WAL checkpoint to the appends", () => {
  it("a NORMAL commit runs without the automatic checkpoint, but one per 1,000 pages keeps it; the connection gets its setting back", async () => {
    // Given a projection store sharing the event store's connection (wal_autocheckpoint 1000)
    const events = new SqliteEventStore({ path: join(dir, `${randomUUID()}.db`) });
    const projections = events.openProjectionStore();
    let connection: Database | undefined;
    const during: number[] = [];
    try {
      // When it commits one document at a time (two pages each by the count)
      const commits = PROJECTION_CHECKPOINT_EVERY;
      for (let position = 1; position <= commits; position++) {
        await projections.commit("p@v1", {
          expectedPosition: position - 1,
          position,
          epoch: 1,
          documents: new Map([[`k${position % 7}`, { n: position }]]),
          transaction: (db) => {
            connection = db as Database;
            during.push(connection.pragma("wal_autocheckpoint", { simple: true }) as number);
          },
        });
      }
      // Then only every 500th commit could checkpoint, and appends still can
      expect(during.filter((n) => n !== 0)).toEqual([1000, 1000]);
      expect(during.findIndex((n) => n !== 0)).toBe(PROJECTION_CHECKPOINT_EVERY / 2 - 1);
      expect(connection?.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
      expect(connection?.pragma("synchronous", { simple: true })).toBe(2);
    } finally {
      await projections.close();
      await events.close();
    }
  });
});
