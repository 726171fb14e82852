import { join } from "node:path";
import { Actor, MemoryEventStore, MemorySnapshotStore, type ReminderStore, type ReminderTick } from "@granary/core";
import { RedisReminderStore } from "@granary/redis";
import { SqliteReminderStore } from "@granary/sqlite";
import { startRedisServer } from "@granary/testing";
import BetterSqlite3 from "better-sqlite3";
import { Redis } from "ioredis";
import type { BenchConfig } from "../lib/config.js";
import type { Scenario } from "../lib/scenario.js";
import { startBenchSilo } from "../lib/silo.js";
import { percentileOfSorted } from "../lib/stats.js";
import { scratchDir } from "../lib/tmp.js";
import type { Row, ScenarioResult, TargetResult } from "../lib/types.js";

const NAME = "reminders";
const TITLE = "Reminders: registration rate and tick lag (SQLite, Redis)";
const POLL_INTERVAL_MS = 500;
const REGISTERING_ACTORS = 1_000;
const CALLERS = 100;

interface Sizes {
  /** Reminders registered (most far in the future). */
  readonly total: number;
  /** Reminders due per second during the lag window. */
  readonly perSecond: number;
  /** Length of the lag window. */
  readonly windowMs: number;
  /** Time from re-registering to the first due reminder: registration must be over before it. */
  readonly leadMs: number;
}

function sizes(config: BenchConfig): Sizes {
  // The smoke run only checks the scenario works: a short lead keeps its four windows brief.
  if (config.smoke) return { total: 300, perSecond: 200, windowMs: 500, leadMs: 300 };
  const env = process.env;
  return {
    total: Number(env.BENCH_REMINDERS ?? 100_000),
    perSecond: Number(env.BENCH_REMINDERS_PER_SEC ?? 1_000),
    windowMs: Number(env.BENCH_REMINDER_WINDOW_MS ?? 10_000),
    leadMs: 3_000,
  };
}

/** Records fire time − due time of every tick, in ms. */
class LagRecorder {
  readonly lags: number[] = [];
  record(dueAt: number): void {
    this.lags.push(Date.now() - dueAt);
  }
  summary(): { p50: number; p99: number; count: number } {
    const sorted = Float64Array.from(this.lags).sort();
    return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99), count: sorted.length };
  }
}

let recorder = new LagRecorder();

/** Registers reminders and records the lag of every tick it receives. */
class Alarm extends Actor {
  static readonly type = "Alarm";
  async schedule(name: string, at: number): Promise<void> {
    await this.remind(name, { at });
  }
  override async onReminder(_name: string, tick: ReminderTick): Promise<void> {
    recorder.record(Date.parse(tick.scheduledAt));
  }
}

/** What a store side (raw or Granary) must do: register many, then fire what falls due. */
interface Side {
  register(index: number, dueAt: number): Promise<void>;
  /** Starts firing (raw: its own poll loop; Granary: the silo's reminder service already runs). */
  startFiring(): void;
  close(): Promise<void>;
}

async function runInParallel(count: number, callers: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < count; i = next++) await op(i);
    }),
  );
  return (count * 1_000) / (performance.now() - started);
}

/**
 * 1. registers `total` reminders due in a day (registration rate);
 * 2. re-registers the first `perSecond × window` of them due from `leadMs` (3 s) from now at `perSecond` per
 *    second, the rest still registered far ahead (the index holds `total`);
 * 3. records the lag of every tick of the window.
 */
async function measure(side: Side, s: Sizes): Promise<{ registrationsPerSec: number; lag: LagRecorder }> {
  recorder = new LagRecorder();
  const farAhead = Date.now() + 86_400_000;
  const registrationsPerSec = await runInParallel(s.total, CALLERS, (i) => side.register(i, farAhead + i));
  const due = Math.min(s.total, Math.round((s.perSecond * s.windowMs) / 1_000));
  const start = Date.now() + s.leadMs;
  side.startFiring();
  await runInParallel(due, CALLERS, (i) => side.register(i, start + Math.floor((i * 1_000) / s.perSecond)));
  const deadline = start + s.windowMs + 30_000;
  while (recorder.lags.length < due && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const lag = recorder;
  await side.close();
  return { registrationsPerSec, lag };
}

async function granarySide(reminders: ReminderStore): Promise<Side> {
  const silo = await startBenchSilo({
    actors: [Alarm],
    store: new MemoryEventStore(),
    snapshots: new MemorySnapshotStore(),
    reminders,
    reminderService: { pollIntervalMs: POLL_INTERVAL_MS },
  });
  const alarms = Array.from({ length: REGISTERING_ACTORS }, (_, i) => silo.get(Alarm, `a${i}`));
  return {
    register: (i, dueAt) => (alarms[i % REGISTERING_ACTORS] as (typeof alarms)[number]).schedule(`r${i}`, dueAt),
    startFiring: () => {},
    close: async () => {
      await silo.stop();
      await reminders.close();
    },
  };
}

/** A table with a due-time index, polled by one loop: the floor under any reminder service on SQLite. */
function rawSqliteSide(path: string): Side {
  const db = new BetterSqlite3(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(`CREATE TABLE reminders (stream TEXT NOT NULL, name TEXT NOT NULL, due_at INTEGER NOT NULL,
    PRIMARY KEY (stream, name)) STRICT, WITHOUT ROWID;
    CREATE INDEX reminders_due ON reminders (due_at);`);
  const upsert = db.prepare(
    "INSERT INTO reminders (stream, name, due_at) VALUES (?, ?, ?) ON CONFLICT (stream, name) DO UPDATE SET due_at = excluded.due_at",
  );
  const due = db.prepare<[number], { stream: string; name: string; due_at: number }>(
    "SELECT stream, name, due_at FROM reminders WHERE due_at <= ? ORDER BY due_at LIMIT 1000",
  );
  const remove = db.prepare("DELETE FROM reminders WHERE stream = ? AND name = ?");
  // Writes of one event-loop turn share a transaction, as any sane raw design would batch them.
  let batch: { args: [string, string, number]; done: () => void }[] = [];
  const flush = db.transaction((rows: typeof batch) => {
    for (const row of rows) upsert.run(...row.args);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const poll = (): void => {
    if (stopped) return;
    const rows = due.all(Date.now());
    db.transaction(() => {
      for (const row of rows) {
        recorder.record(row.due_at);
        remove.run(row.stream, row.name);
      }
    })();
    timer = setTimeout(poll, rows.length === 1000 ? 0 : POLL_INTERVAL_MS);
  };
  return {
    register: (i, dueAt) =>
      new Promise<void>((resolve) => {
        if (batch.length === 0) {
          setImmediate(() => {
            const rows = batch;
            batch = [];
            flush(rows);
            for (const row of rows) row.done();
          });
        }
        batch.push({ args: [`Alarm/a${i % REGISTERING_ACTORS}`, `r${i}`, dueAt], done: resolve });
      }),
    startFiring: poll,
    close: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      db.close();
    },
  };
}

/** A sorted set polled by one loop (plus a hash per stream, as a listing needs). */
function rawRedisSide(url: string): Side {
  const redis = new Redis(url, { enableAutoPipelining: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const poll = async (): Promise<void> => {
    if (stopped) return;
    const members = await redis.zrangebyscore("raw:due", "-inf", Date.now(), "WITHSCORES", "LIMIT", 0, 1000);
    const removing: Promise<unknown>[] = [];
    for (let i = 0; i < members.length; i += 2) {
      recorder.record(Number(members[i + 1]));
      removing.push(redis.zrem("raw:due", members[i] as string));
    }
    await Promise.all(removing);
    timer = setTimeout(() => void poll(), members.length === 2000 ? 0 : POLL_INTERVAL_MS);
  };
  return {
    register: async (i, dueAt) => {
      const member = `Alarm/a${i % REGISTERING_ACTORS}\u0000r${i}`;
      await Promise.all([
        redis.hset(`raw:reminders:Alarm/a${i % REGISTERING_ACTORS}`, `r${i}`, "{}"),
        redis.zadd("raw:due", dueAt, member),
      ]);
    },
    startFiring: () => void poll(),
    close: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      redis.disconnect();
    },
  };
}

function rows(
  store: string,
  raw: Awaited<ReturnType<typeof measure>>,
  granary: Awaited<ReturnType<typeof measure>>,
  s: Sizes,
): Row[] {
  const rawLag = raw.lag.summary();
  const lag = granary.lag.summary();
  const registration = `${store} raw registration (batched upsert), ${CALLERS} callers`;
  const rawPoll = `${store} raw poller lag, ${s.perSecond}/s due of ${s.total}`;
  const target = (label: string, met: boolean, actual: string): TargetResult => ({ label, met, actual });
  return [
    { name: registration, role: "baseline", opsPerSec: raw.registrationsPerSec, targets: [] },
    {
      name: `${store} granary remind(), ${REGISTERING_ACTORS} actors × ${CALLERS} callers`,
      role: "granary",
      opsPerSec: granary.registrationsPerSec,
      baseline: registration,
      ratio: granary.registrationsPerSec / raw.registrationsPerSec,
      ratioKind: "throughput",
      targets: [
        target(
          "≥ 5,000 registrations/s",
          granary.registrationsPerSec >= 5_000,
          `${Math.round(granary.registrationsPerSec)}/s`,
        ),
      ],
    },
    {
      name: rawPoll,
      role: "baseline",
      p50Ms: rawLag.p50,
      p99Ms: rawLag.p99,
      targets: [],
      extra: { summary: `${rawLag.count} ticks, lag p50 ${rawLag.p50} ms, p99 ${rawLag.p99} ms`, ticks: rawLag.count },
    },
    {
      name: `${store} granary reminder lag, ${s.perSecond}/s due of ${s.total}`,
      role: "granary",
      p50Ms: lag.p50,
      p99Ms: lag.p99,
      baseline: rawPoll,
      p50Ratio: rawLag.p50 > 0 ? lag.p50 / rawLag.p50 : 1,
      ratioKind: "latency",
      targets: [target("p99 lag ≤ 1 s", lag.p99 <= 1_000 && lag.count > 0, `${Math.round(lag.p99)} ms`)],
      extra: { summary: `${lag.count} ticks, lag p50 ${lag.p50} ms, p99 ${lag.p99} ms`, ticks: lag.count },
    },
  ];
}

/** 100,000 reminders, 1,000 due per second, on SQLite and on Redis, each against a raw poller. */
export const reminders: Scenario = {
  name: NAME,
  title: TITLE,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const s = sizes(config);
    const scratch = scratchDir(config, NAME);
    const server = await startRedisServer({ appendonly: true });
    try {
      const sqliteRaw = await measure(rawSqliteSide(join(scratch.path, "raw.db")), s);
      const sqliteGranary = await measure(
        await granarySide(new SqliteReminderStore({ path: join(scratch.path, "granary.db") })),
        s,
      );
      const redisRaw = await measure(rawRedisSide(server.url), s);
      const redisGranary = await measure(await granarySide(new RedisReminderStore({ redis: server.url })), s);
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: [...rows("SQLite", sqliteRaw, sqliteGranary, s), ...rows("Redis", redisRaw, redisGranary, s)],
        settings: {
          reminders: s.total,
          duePerSecond: s.perSecond,
          windowMs: s.windowMs,
          pollIntervalMs: POLL_INTERVAL_MS,
          registeringActors: REGISTERING_ACTORS,
          callers: CALLERS,
          sqlite: "WAL, synchronous=FULL",
          redis: "throwaway redis-server, appendonly yes, appendfsync everysec",
        },
        notes: [
          "Registration: total reminders registered by 100 concurrent callers (Granary: through actors calling remind(), 1,000 actors; raw: upserts into an indexed due-time table batched per event-loop turn / ZADD + HSET pipelined).",
          "Lag: the first perSecond × window reminders are re-registered due from 3 s ahead at perSecond per second while the rest stay registered a day ahead; lag = time the handler ran − due time. Both sides poll every 500 ms (Granary's default pollIntervalMs); Granary also activates the actor and runs onReminder as a turn, fenced per partition.",
          "One run per side, not medians: a lag window is one continuous measurement.",
        ],
      };
    } finally {
      await server.stop();
      scratch.remove();
    }
  },
};
