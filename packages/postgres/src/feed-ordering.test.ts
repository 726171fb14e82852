import type { RecordedEvent } from "@granary/core";
import { eventually, makeEvents, usePostgresServer } from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readFeedWhileWriting } from "./__fixtures__/feed-readers.js";
import { FeedChanges } from "./internal/feed-changes.js";
import { encodeEvents } from "./internal/row-codec.js";
import { PostgresEventStore } from "./postgres-event-store.js";

const server = usePostgresServer();
let sql: pg.Pool;
let namespaces = 0;
const quietLogger = { warn: () => {} };

beforeAll(async () => {
  sql = new pg.Pool({ connectionString: server.url, max: 20 });
  sql.on("error", () => {});
  // Migrate once before the raw-SQL tests call granary.append directly.
  const store = new PostgresEventStore({ connectionString: server.url, logger: quietLogger });
  await store.latestVersion("warm-up");
  await store.close();
});
afterAll(async () => {
  await sql?.end();
});

function openStore(): PostgresEventStore {
  namespaces += 1;
  return new PostgresEventStore({ connectionString: server.url, namespace: `feed-${namespaces}`, logger: quietLogger });
}

/** Calls granary.append on a connection the test controls, so it can hold the transaction open. */
async function appendInTransaction(
  client: pg.PoolClient,
  namespace: string,
  stream: string,
  expected: number,
  count = 1,
) {
  const { rows } = await client.query<{ position: string }>(
    `SELECT "position" FROM granary.append($1, $2, $3, NULL, $4::jsonb)`,
    [namespace, stream, expected, encodeEvents(makeEvents(stream, expected, count))],
  );
  return Number(rows[0]?.position);
}

function expectStrictlyIncreasing(positions: readonly number[]): void {
  for (let i = 1; i < positions.length; i++) expect(positions[i]).toBeGreaterThan(positions[i - 1] as number);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("global feed under concurrent commits", () => {
  it("feed - an event committed behind an earlier position still in flight is held back until that one commits", async () => {
    const store = openStore();
    const slow = await sql.connect();
    try {
      // Given a transaction that took position p and has not committed yet
      await slow.query("BEGIN");
      const early = await appendInTransaction(slow, store.namespace, "s/slow", 0);
      // When another append takes p + 1 and commits
      const late = await store.append("s/fast", 0, makeEvents("s/fast", 0, 1));
      expect(late.position).toBeGreaterThan(early);

      // Then the feed does not return p + 1 yet (a reader would otherwise move past p for good)
      expect(await store.readAll(0)).toEqual([]);
      await slow.query("COMMIT");

      // And once p commits, both arrive in position order
      expect((await store.readAll(0)).map((e) => e.position)).toEqual([early, late.position]);
    } finally {
      await slow.query("ROLLBACK");
      slow.release();
      await store.close();
    }
  });

  it("feed - a rolled-back append leaves a gap in positions, and later events are delivered", async () => {
    const store = openStore();
    const aborted = await sql.connect();
    try {
      await aborted.query("BEGIN");
      const lost = await appendInTransaction(aborted, store.namespace, "s/lost", 0);
      const kept = await store.append("s/kept", 0, makeEvents("s/kept", 0, 1));
      await aborted.query("ROLLBACK");

      expect((await store.readAll(0)).map((e) => e.position)).toEqual([kept.position]);
      expect(kept.position).toBeGreaterThan(lost);
    } finally {
      await aborted.query("ROLLBACK");
      aborted.release();
      await store.close();
    }
  });

  it("feed - append must be the first write of its transaction (its xid orders the feed)", async () => {
    const store = openStore();
    const client = await sql.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_current_xact_id()");

      await expect(appendInTransaction(client, store.namespace, "s/1", 0)).rejects.toMatchObject({
        code: "GR006",
        message: expect.stringContaining("first write of its transaction"),
      });
    } finally {
      await client.query("ROLLBACK");
      client.release();
      await store.close();
    }
  });

  it("feed - with many appenders holding their transactions open for random times, a subscriber sees every committed event exactly once in position order", async () => {
    const store = openStore();
    const feed = readFeedWhileWriting(store, { batchSize: 5, pageSize: 3 });
    const committed: number[] = [];
    const writers = 12;
    const appendsEach = 15;

    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const client = await sql.connect();
        try {
          for (let i = 0; i < appendsEach; i++) {
            const stream = `w${writer}`;
            const expected = await versionOf(client, store.namespace, stream);
            await client.query("BEGIN");
            await pause(Math.random() * 3);
            const position = await appendInTransaction(client, store.namespace, stream, expected, 1 + (i % 3));
            await client.query("SELECT pg_sleep($1)", [Math.random() * 0.02]);
            // One in seven is rolled back: its positions become gaps, never events.
            if (i % 7 === 3) {
              await client.query("ROLLBACK");
            } else {
              await client.query("COMMIT");
              committed.push(position);
            }
            await client.query("SELECT pg_notify('granary_feed', $1)", [store.namespace]);
          }
        } finally {
          client.release();
        }
      }),
    );
    await feed.stopPaging();

    const all = await store.readAll(0, 100_000);
    await feed.expectExactly(all);
    await store.close();
    expectStrictlyIncreasing(feed.seen.map((e) => e.position));
    expect(new Set(feed.seen.map((e) => e.id)).size).toBe(feed.seen.length);
    const lastPositions = new Set(committed);
    expect(all.filter((e) => lastPositions.has(e.position))).toHaveLength(committed.length);
    for (let writer = 0; writer < writers; writer++) {
      const versions = all.filter((e) => e.stream === `w${writer}`).map((e) => e.version);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
  });

  it("feed - a subscriber of another store instance receives appends, and close stops listening", async () => {
    const writer = openStore();
    const reader = new PostgresEventStore({
      connectionString: server.url,
      namespace: writer.namespace,
      logger: quietLogger,
    });
    const seen: RecordedEvent[] = [];
    const subscription = reader.subscribe({ fromPosition: 0, onEvent: (e) => void seen.push(e) });
    await eventually(async () => (await listeners()) > 0, "the reader listens");

    await writer.append("s/1", 0, makeEvents("s/1", 0, 1));

    await eventually(() => seen.length === 1, "the reader received the event");
    await subscription.close();
    await Promise.all([writer.close(), reader.close()]);
    await eventually(async () => (await listeners()) === 0, "the LISTEN connection is closed");
  });

  it("feed - an append in another process wakes a waiting subscriber by NOTIFY, not by polling", async () => {
    const writer = openStore();
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    pool.on("error", () => {});
    const changes = new FeedChanges(pool, "granary", writer.namespace, quietLogger);
    const abort = new AbortController();
    // The first wait starts LISTEN and resolves once it is established.
    await changes.wait(abort.signal, 60_000);

    // Given a waiter whose polling fallback is far beyond the test's timeout
    let woken = false;
    void changes.wait(abort.signal, 60_000).then(() => {
      woken = true;
    });
    // When another store appends, then the NOTIFY wakes it (long before its fallback would)
    await writer.append("s/1", 0, makeEvents("s/1", 0, 1));
    await vi.waitFor(() => expect(woken, "the NOTIFY woke the waiter").toBe(true), { timeout: 10_000 });

    abort.abort();
    await changes.close();
    await Promise.all([writer.close(), pool.end()]);
  });

  it("feed - NOTIFY wake-ups are per namespace", async () => {
    const writer = openStore();
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    pool.on("error", () => {});
    const other = `${writer.namespace}-other`;
    const changes = new FeedChanges(pool, "granary", other, quietLogger);
    const abort = new AbortController();
    await changes.wait(abort.signal, 60_000);
    const probe = await sql.connect();
    const probeSaw: string[] = [];
    probe.on("notification", (message) => probeSaw.push(message.payload ?? ""));
    await probe.query("LISTEN granary_feed");
    const before = changes.generation;
    const received = changes.notificationsReceived;

    // Given the writer's NOTIFY for its own namespace has committed (the probe received it)
    await writer.append("s/1", 0, makeEvents("s/1", 0, 1));
    await vi.waitFor(() => expect(probeSaw).toContain(writer.namespace), { timeout: 20_000 });
    // When a NOTIFY for the other namespace follows (delivered after it: notifications arrive in commit order)
    await pool.query("SELECT pg_notify('granary_feed', $1)", [other]);

    // Then, once both notifications reached the other namespace's store, it woke once: for its own only
    await vi.waitFor(() => expect(changes.notificationsReceived).toBeGreaterThanOrEqual(received + 2), {
      timeout: 20_000,
    });
    expect(changes.generation).toBe(before + 1);
    await probe.query("UNLISTEN granary_feed");
    probe.release();
    abort.abort();
    await changes.close();
    await Promise.all([writer.close(), pool.end()]);
  });
});

async function versionOf(client: pg.PoolClient, namespace: string, stream: string): Promise<number> {
  const { rows } = await client.query<{ version: string }>(
    "SELECT version FROM granary.streams WHERE namespace = $1 AND stream = $2",
    [namespace, stream],
  );
  return Number(rows[0]?.version ?? 0);
}

async function listeners(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND state = 'idle'",
  );
  return rows[0]?.n ?? 0;
}
