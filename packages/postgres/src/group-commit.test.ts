import { ErrorCode, type RecordedEvent } from "@granary/core";
import { makeEvent, makeEvents, usePostgresServer } from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFeedWhileWriting } from "./__fixtures__/feed-readers.js";
import { PostgresEventStore } from "./postgres-event-store.js";

const server = usePostgresServer();
let sql: pg.Pool;
let namespaces = 0;
const quietLogger = { warn: () => {} };

beforeAll(() => {
  sql = new pg.Pool({ connectionString: server.url, max: 4 });
  sql.on("error", () => {});
});
afterAll(async () => {
  await sql?.end();
});

function open(extra: Partial<ConstructorParameters<typeof PostgresEventStore>[0]> = {}): PostgresEventStore {
  namespaces += 1;
  return new PostgresEventStore({
    connectionString: server.url,
    namespace: `group-${namespaces}`,
    logger: quietLogger,
    ...extra,
  });
}

/** Settles every promise, keeping results and errors in call order. */
async function settled<T>(promises: readonly Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  return Promise.all(
    promises.map((p) =>
      p.then(
        (value) => ({ status: "fulfilled", value }) as const,
        (reason: unknown) => ({ status: "rejected", reason }) as const,
      ),
    ),
  );
}

/** Transactions committed by the appends `run` starts (they are all issued in one turn). */
async function transactionsOf(store: PostgresEventStore, run: () => Promise<unknown>): Promise<number> {
  // Migrations first, so the appends under test are queued together.
  await store.latestVersion("warm-up");
  const before = store.commitStats.transactions;
  await run();
  return store.commitStats.transactions - before;
}

describe("PostgresEventStore group commit", () => {
  it("group commit - 200 concurrent appends to 200 streams share a few transactions and are all stored", async () => {
    const store = open();
    await store.latestVersion("warm-up");
    const before = store.commitStats;

    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.append(`s/${i}`, 0, makeEvents(`s/${i}`, 0, 1))),
    );

    const after = store.commitStats;
    expect(after.jobs - before.jobs).toBe(200);
    expect(after.transactions - before.transactions).toBeLessThanOrEqual(10);
    expect(results.every((r) => r.version === 1 && !r.duplicate)).toBe(true);
    expect(new Set(results.map((r) => r.position)).size).toBe(200);
    const feed = await store.readAll(0, 1_000);
    expect(feed).toHaveLength(200);
    expect(feed.map((e) => e.position).sort((a, b) => a - b)).toEqual(
      results.map((r) => r.position).sort((a, b) => a - b),
    );
    for (const i of [0, 99, 199]) expect((await store.read(`s/${i}`)).map((e) => e.version)).toEqual([1]);
    await store.close();
  });

  it("group commit - a conflicting append in a batch fails alone with VersionConflictError; the others commit", async () => {
    const store = open();
    await store.append("taken/1", 0, makeEvents("taken/1", 0, 1));
    let outcomes: PromiseSettledResult<unknown>[] = [];

    const transactions = await transactionsOf(store, async () => {
      outcomes = await settled([
        ...Array.from({ length: 5 }, (_, i) => store.append(`free/${i}`, 0, makeEvents(`free/${i}`, 0, 2))),
        store.append("taken/1", 0, makeEvents("taken/1", 0, 1)),
        ...Array.from({ length: 5 }, (_, i) => store.append(`free/${i + 5}`, 0, makeEvents(`free/${i + 5}`, 0, 1))),
      ]);
    });

    expect(transactions).toBe(1);
    expect(outcomes[5]).toMatchObject({
      status: "rejected",
      reason: { code: ErrorCode.VersionConflict, stream: "taken/1", expectedVersion: 0, actualVersion: 1 },
    });
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(10);
    expect(await store.read("taken/1")).toHaveLength(1);
    expect(await store.read("free/0")).toHaveLength(2);
    expect(await store.readAll(0)).toHaveLength(1 + 5 * 2 + 5);
    await store.close();
  });

  it("group commit - every rejection keeps its own error in one batch: fenced, purged, reused id, re-send", async () => {
    const store = open();
    await store.append("fenced/1", 0, makeEvents("fenced/1", 0, 1), { epoch: 5 });
    await store.append("purged/1", 0, makeEvents("purged/1", 0, 1));
    await store.purge("purged/1", { reason: "test", requestedBy: "tester" });
    const sent = makeEvents("sent/1", 0, 2);
    const first = await store.append("sent/1", 0, sent);
    const reused = makeEvent("other/1", 1, { id: (sent[0] as RecordedEvent).id });
    let outcomes: PromiseSettledResult<unknown>[] = [];

    const transactions = await transactionsOf(store, async () => {
      outcomes = await settled([
        store.append("fenced/1", 1, makeEvents("fenced/1", 1, 1), { epoch: 3 }),
        store.append("purged/1", 1, makeEvents("purged/1", 1, 1)),
        store.append("other/1", 0, [reused]),
        store.append("sent/1", 0, sent),
        store.append("fine/1", 0, makeEvents("fine/1", 0, 1), { epoch: 1 }),
      ]);
    });

    expect(transactions).toBe(1);
    expect(outcomes[0]).toMatchObject({
      status: "rejected",
      reason: { code: ErrorCode.FencedWrite, stream: "fenced/1", epoch: 3, currentEpoch: 5 },
    });
    expect(outcomes[1]).toMatchObject({
      status: "rejected",
      reason: { code: ErrorCode.StreamPurged, stream: "purged/1", reason: "test" },
    });
    expect(outcomes[2]).toMatchObject({
      status: "rejected",
      reason: { code: ErrorCode.IdempotencyConflict, stream: "other/1", eventId: reused.id },
    });
    expect(outcomes[3]).toEqual({ status: "fulfilled", value: { ...first, duplicate: true } });
    expect(outcomes[4]).toMatchObject({ status: "fulfilled", value: { version: 1, duplicate: false } });
    expect(await store.latestVersion("other/1")).toBe(0);
    expect(await store.latestVersion("fenced/1")).toBe(1);
    await store.close();
  });

  it("group commit - appends to one stream in one batch see each other, in call order", async () => {
    const store = open();
    let outcomes: PromiseSettledResult<unknown>[] = [];

    const transactions = await transactionsOf(store, async () => {
      outcomes = await settled([
        store.append("one/1", 0, makeEvents("one/1", 0, 2)),
        store.append("other/1", 0, makeEvents("other/1", 0, 1)),
        store.append("one/1", 2, makeEvents("one/1", 2, 1)),
        store.append("one/1", 2, makeEvents("one/1", 2, 1)),
        store.append("one/1", 3, makeEvents("one/1", 3, 1), { epoch: 2 }),
        store.append("one/1", 4, makeEvents("one/1", 4, 1), { epoch: 1 }),
      ]);
    });

    expect(transactions).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "rejected",
    ]);
    expect(outcomes[2]).toMatchObject({ value: { version: 3 } });
    expect(outcomes[3]).toMatchObject({ reason: { code: ErrorCode.VersionConflict, actualVersion: 3 } });
    expect(outcomes[4]).toMatchObject({ value: { version: 4 } });
    expect(outcomes[5]).toMatchObject({ reason: { code: ErrorCode.FencedWrite, epoch: 1, currentEpoch: 2 } });
    const history = await store.read("one/1");
    expect(history.map((e) => e.version)).toEqual([1, 2, 3, 4]);
    // One transaction: positions follow call order within the stream.
    expect(history.map((e) => e.position)).toEqual([...history.map((e) => e.position)].sort((a, b) => a - b));
    await store.close();
  });

  it("group commit - one event id in two appends of a batch: the first is stored, a same-content re-send is a duplicate, other content a conflict", async () => {
    const store = open();
    const events = makeEvents("a/1", 0, 1);
    const stolen = makeEvent("b/1", 1, { id: (events[0] as RecordedEvent).id });
    let outcomes: PromiseSettledResult<unknown>[] = [];

    const transactions = await transactionsOf(store, async () => {
      outcomes = await settled([
        store.append("a/1", 0, events),
        store.append("a/1", 0, events),
        store.append("b/1", 0, [stolen]),
      ]);
    });

    expect(transactions).toBe(1);
    const stored = outcomes[0] as PromiseFulfilledResult<{ position: number }>;
    expect(outcomes[1]).toEqual({
      status: "fulfilled",
      value: { version: 1, position: stored.value.position, duplicate: true },
    });
    expect(outcomes[2]).toMatchObject({
      status: "rejected",
      reason: { code: ErrorCode.IdempotencyConflict, stream: "b/1" },
    });
    expect(await store.readAll(0)).toHaveLength(1);
    await store.close();
  });

  it("group commit - an append the database refuses inside the batch (unreadable timestamp, NUL) fails alone; the others commit", async () => {
    const store = open();
    const outcomes = await settled([
      store.append("ok/1", 0, makeEvents("ok/1", 0, 1)),
      store.append("bad/1", 0, [makeEvent("bad/1", 1, { timestamp: "yesterday-ish" })]),
      store.append("nul/1", 0, [makeEvent("nul/1", 1, { data: { text: "a\u0000b" } })]),
      store.append("ok/2", 0, makeEvents("ok/2", 0, 1)),
    ]);

    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(outcomes[1]).toMatchObject({
      reason: { code: ErrorCode.InvalidArgument, message: expect.stringContaining("timestamp") },
    });
    // NUL never reaches PostgreSQL: the shared payload check refuses it before the batch.
    expect(outcomes[2]).toMatchObject({ reason: { code: ErrorCode.InvalidEvent, data: { path: "$.data.text" } } });
    expect((await store.readAll(0)).map((e) => e.stream).sort()).toEqual(["ok/1", "ok/2"]);
    await store.close();
  });

  it("group commit - stream names and event ids with quotes, backslashes, commas, braces or NULL arrive intact", async () => {
    const store = open();
    const names = ['q"uote', "back\\slash", "com,ma", "{brace}", "NULL", " padded ", "ünï/😀", "tab\there"];

    const transactions = await transactionsOf(store, () =>
      Promise.all(names.map((name) => store.append(name, 0, [makeEvent(name, 1, { id: `id ${name}` })]))),
    );

    expect(transactions).toBe(1);
    for (const name of names) {
      expect((await store.read(name)).map((e) => [e.stream, e.id])).toEqual([[name, `id ${name}`]]);
    }
    await store.close();
  });

  it("group commit - maxBatch bounds the appends per transaction", async () => {
    const store = open({ maxBatch: 4 });

    const transactions = await transactionsOf(store, () =>
      Promise.all(Array.from({ length: 12 }, (_, i) => store.append(`s/${i}`, 0, makeEvents(`s/${i}`, 0, 1)))),
    );

    expect(transactions).toBe(3);
    await store.close();
  });

  it("group commit - off, every append is its own transaction", async () => {
    const store = open({ groupCommit: false });

    const transactions = await transactionsOf(store, () =>
      Promise.all(Array.from({ length: 10 }, (_, i) => store.append(`s/${i}`, 0, makeEvents(`s/${i}`, 0, 1)))),
    );

    expect(transactions).toBe(10);
    expect(await store.readAll(0)).toHaveLength(10);
    await store.close();
  });

  it("group commit - batches in flight on several connections, with transactions held open beside them, never let a reader skip an event", async () => {
    const first = open();
    const namespace = first.namespace;
    const writers = [first, new PostgresEventStore({ connectionString: server.url, namespace, logger: quietLogger })];
    const reader = new PostgresEventStore({ connectionString: server.url, namespace, logger: quietLogger });
    const feed = readFeedWhileWriting(reader, { batchSize: 7, pageSize: 5 });
    // Raw appends that hold their transactions open for a while, between the batches.
    const slow = (async () => {
      const client = await sql.connect();
      try {
        for (let i = 0; i < 10; i++) {
          await client.query("BEGIN");
          await client.query(`SELECT granary.append($1, $2, $3, NULL, $4::jsonb)`, [
            namespace,
            "slow/1",
            i,
            JSON.stringify(makeEvents("slow/1", i, 1)),
          ]);
          await client.query("SELECT pg_sleep(0.03)");
          await client.query("COMMIT");
        }
      } finally {
        client.release();
      }
    })();
    const versions = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 60 }, async (_, caller) => {
        for (let round = 0; round < 8; round++) {
          const stream = `w/${caller}`;
          const expected = versions.get(stream) ?? 0;
          const writer = writers[(caller + round) % 2] as PostgresEventStore;
          const { version } = await writer.append(stream, expected, makeEvents(stream, expected, 1 + (round % 2)));
          versions.set(stream, version);
        }
      }),
    );
    await slow;
    await feed.stopPaging();

    const all = await reader.readAll(0, 100_000);
    expect(all).toHaveLength(60 * 12 + 10);
    await feed.expectExactly(all);
    const batched = writers.reduce((sum, w) => sum + w.commitStats.transactions, 0);
    expect(batched).toBeLessThan(60 * 8);
    await Promise.all([...writers.map((w) => w.close()), reader.close()]);
  });
});
