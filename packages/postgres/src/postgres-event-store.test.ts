import { ErrorCode, EventSourcedActor, type RecordedEvent, Upcasters } from "@granary/core";
import {
  eventually,
  makeEvent,
  makeEvents,
  type PostgresServer,
  rejectionOf,
  startPostgresServer,
} from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresEventStore } from "./postgres-event-store.js";

let server: PostgresServer;
let namespaces = 0;
const quietLogger = { warn: () => {} };

beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.stop();
});

function open(extra: Partial<ConstructorParameters<typeof PostgresEventStore>[0]> = {}): PostgresEventStore {
  namespaces += 1;
  return new PostgresEventStore({
    connectionString: server.url,
    namespace: `store-${namespaces}`,
    logger: quietLogger,
    ...extra,
  });
}

// Today's Account: amounts in cents with a currency. Its history was written by two older versions:
// v1 { amount } in whole euros, v2 { amount, currency }.
type AccountEvent = { type: "Deposited"; amountCents: number; currency: string };
class Account extends EventSourcedActor<{ balances: Record<string, number> }, AccountEvent> {
  static readonly type = "Account";
  static readonly upcasters = new Upcasters()
    .register("Deposited", 1, (d) => ({ ...d, currency: "EUR" }))
    .register("Deposited", 2, (d) => ({
      amountCents: Math.round(Number(d.amount) * 100),
      currency: d.currency ?? "EUR",
    }));
  initialState() {
    return { balances: {} };
  }
  apply(state: { balances: Record<string, number> }, event: AccountEvent) {
    const balance = (state.balances[event.currency] ?? 0) + event.amountCents;
    return { balances: { ...state.balances, [event.currency]: balance } };
  }
}

describe("PostgresEventStore", () => {
  it("schema evolution - history written by two older versions of an event replays into today's class", async () => {
    // Given history from three generations of the code
    const writer = open();
    await writer.append("Account/1", 0, [
      makeEvent("Account/1", 1, { type: "Deposited", schemaVersion: 1, data: { amount: 5 } }),
      makeEvent("Account/1", 2, { type: "Deposited", schemaVersion: 2, data: { amount: 2.5, currency: "USD" } }),
      makeEvent("Account/1", 3, { type: "Deposited", schemaVersion: 3, data: { amountCents: 10, currency: "EUR" } }),
    ]);

    // When today's code reads it with its upcasters
    const store = new PostgresEventStore({
      connectionString: server.url,
      namespace: writer.namespace,
      logger: quietLogger,
      upcasters: Account.upcasters,
    });
    const history = await store.read("Account/1");
    const account = new Account();
    const state = history.reduce(
      (s, e) => account.apply(s, { ...e.data, type: e.type } as AccountEvent),
      account.initialState(),
    );

    // Then every event has today's shape and the fold is right
    expect(history.map((e) => e.schemaVersion)).toEqual([3, 3, 3]);
    expect(state).toEqual({ balances: { EUR: 510, USD: 250 } });
    expect(Account.upcasters.currentVersion("Deposited")).toBe(3);
    await Promise.all([writer.close(), store.close()]);
  });

  it("namespaces - two stores over one database see only their own streams, feed and tombstones", async () => {
    const a = open();
    const b = open();
    await a.append("Shared/1", 0, makeEvents("Shared/1", 0, 2));
    await b.append("Shared/1", 0, makeEvents("Shared/1", 0, 1));
    await b.purge("Shared/1", { reason: "test", requestedBy: "tester" });

    expect(await a.read("Shared/1")).toHaveLength(2);
    expect(await a.tombstone("Shared/1")).toBeUndefined();
    expect((await a.readAll(0)).map((e) => e.stream)).toEqual(["Shared/1", "Shared/1"]);
    expect(await b.readAll(0)).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it("append - a large batch is one all-or-nothing append with consecutive positions", async () => {
    const store = open();
    const events = makeEvents("Big/1", 0, 1_000);

    const result = await store.append("Big/1", 0, events);

    const read = await store.read("Big/1");
    expect(read).toHaveLength(1_000);
    expect(read.map((e) => e.position)).toEqual(read.map((_, i) => (read[0]?.position ?? 0) + i));
    expect(result).toEqual({ version: 1_000, position: read[999]?.position, duplicate: false });
    await store.close();
  });

  it("append - payloads PostgreSQL cannot store are rejected (NUL by the shared payload check, INVALID_EVENT) and write nothing", async () => {
    const store = open();

    const nul = await rejectionOf(store.append("s/1", 0, [makeEvent("s/1", 1, { data: { text: "a\u0000b" } })]));
    const time = await rejectionOf(store.append("s/1", 0, [makeEvent("s/1", 1, { timestamp: "yesterday-ish" })]));

    expect(nul).toMatchObject({ code: ErrorCode.InvalidEvent, data: { path: "$.data.text" } });
    expect(time).toMatchObject({ code: ErrorCode.InvalidArgument, message: expect.stringContaining("timestamp") });
    expect(await store.latestVersion("s/1")).toBe(0);
    await store.close();
  });

  it("pool - a store on a caller's pool leaves the pool open on close", async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 3 });
    const store = new PostgresEventStore({ pool, namespace: "own-pool", logger: quietLogger });
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));

    await store.close();

    expect(
      (await pool.query("SELECT count(*)::int AS n FROM granary.events WHERE namespace = 'own-pool'")).rows,
    ).toEqual([{ n: 1 }]);
    await pool.end();
  });

  it("close - calls after close fail with ShuttingDownError", async () => {
    const store = open();
    await store.close();

    expect(await rejectionOf(store.latestVersion("s/1"))).toMatchObject({ code: ErrorCode.ShuttingDown });
  });
});

/**
 * A PostgreSQL crash: the postmaster and every server process. server.kill() SIGKILLs the
 * postmaster's process group, but each backend calls setsid() and has a group of its own; until it
 * notices the postmaster is gone, a backend that finds the next query already in its socket still
 * runs and commits it.
 */
async function crash(): Promise<void> {
  const client = new pg.Client(server.url);
  await client.connect();
  const { rows } = await client.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
  );
  await client.end();
  await server.kill();
  for (const { pid } of rows) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

describe("PostgresEventStore when the server goes away", () => {
  it("outage - calls fail with a retryable ConnectionError, a subscription reports it, and the store works again after a restart", async () => {
    const store = open();
    await store.append("s/1", 0, makeEvents("s/1", 0, 1));
    const seen: RecordedEvent[] = [];
    const errors: unknown[] = [];
    const subscription = store.subscribe({
      fromPosition: 0,
      onEvent: (e) => void seen.push(e),
      onError: (e) => errors.push(e),
    });
    await eventually(() => seen.length === 1, "the subscriber caught up");

    // When PostgreSQL crashes, idle connections break without crashing this process
    await crash();
    const error = await rejectionOf(store.append("s/1", 1, makeEvents("s/1", 1, 1)));
    expect(error).toMatchObject({ code: ErrorCode.Connection, retryable: true });
    await eventually(() => errors.length === 1, "the subscription reported the outage");
    expect(errors[0]).toMatchObject({ code: ErrorCode.Connection });

    // Then after the restart the same store serves again
    await server.restart();
    await eventually(async () => {
      try {
        return (await store.latestVersion("s/1")) === 1;
      } catch {
        return false;
      }
    }, "the store reconnected");
    await store.append("s/1", 1, makeEvents("s/1", 1, 1));
    expect(await store.read("s/1")).toHaveLength(2);
    await subscription.close();
    await store.close();
  });
});
