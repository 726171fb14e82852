import type { ActorRef } from "@granary/core";
import { RedisEventStore, RedisSnapshotStore } from "@granary/redis";
import { startRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { Ledger } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts, startBenchSilo } from "../lib/silo.js";
import { minShareOfBaseline } from "../lib/targets.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "es-redis";
const TITLE = "Event-sourced command, RedisEventStore (AOF on)";

/**
 * The raw baseline's script: the writes Granary's append makes (version check, feed position,
 * feed entry, event JSON on the stream list, event id index, the correlation id's position list,
 * wake-up message) and its time-travel check (generation marker and position counter read and
 * compared), without its idempotency, tombstone and fencing checks and without any client-side work.
 * KEYS: stream list, ids hash, position counter, feed, generation.
 * ARGV: stream, expected, id, json, generation, correlation list key.
 */
const RAW_APPEND = `
local expected = tonumber(ARGV[2])
local marks = redis.call('MGET', KEYS[5], KEYS[3])
if marks[1] ~= ARGV[5] or tonumber(marks[2] or '0') < 0 then return {'rewound'} end
if redis.call('LLEN', KEYS[1]) ~= expected then return {'conflict'} end
local position = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[4], position, 'stream', ARGV[1], 'version', expected + 1)
redis.call('RPUSH', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[3], (expected + 1) .. ':' .. ARGV[1])
redis.call('RPUSH', ARGV[6], position)
redis.call('PUBLISH', 'bench:{raw}:feed-channel', position)
return {'ok', position}
`;
const RAW_GENERATION = "bench-raw-generation";

interface Context {
  readonly url: string;
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const { storeActors: actors, storeCallers: callers } = config;
  const raw: CaseSpec["setup"] = async () => {
    const redis = new Redis(context.url);
    const sha = (await redis.script("LOAD", RAW_APPEND)) as string;
    await redis.set("bench:{raw}:generation", RAW_GENERATION);
    const versions = new Array<number>(actors).fill(0);
    const random = randomInts(37);
    const run = `${process.pid}-${Date.now()}`;
    let n = 0;
    return {
      concurrency: callers,
      op: async () => {
        const actor = random(actors);
        const expected = versions[actor] as number;
        versions[actor] = expected + 1;
        const stream = `Ledger/r-${run}-${actor}`;
        const id = `${run}-${n++}`;
        const json = JSON.stringify({
          id,
          type: "Deposited",
          stream,
          version: expected + 1,
          schemaVersion: 1,
          data: { amount: 1 },
          metadata: { correlationId: id, causationId: id, commandId: id },
          timestamp: new Date().toISOString(),
        });
        const keys = [
          `bench:{raw}:s:${stream}`,
          "bench:{raw}:ids",
          "bench:{raw}:position",
          "bench:{raw}:feed",
          "bench:{raw}:generation",
        ];
        await redis.evalsha(
          sha,
          keys.length,
          ...keys,
          stream,
          expected,
          id,
          json,
          RAW_GENERATION,
          `bench:{raw}:c:${id}`,
        );
      },
      teardown: async () => void redis.disconnect(),
    };
  };
  const granary: CaseSpec["setup"] = async () => {
    const namespace = `bench-${process.pid}-${Date.now()}`;
    const store = new RedisEventStore({ redis: context.url, namespace });
    const snapshots = new RedisSnapshotStore({ redis: context.url, namespace });
    const silo = await startBenchSilo({ actors: [Ledger], store, snapshots });
    const refs: ActorRef<Ledger>[] = Array.from({ length: actors }, (_, i) => silo.get(Ledger, `r-${i}`));
    await Promise.all(refs.map((ref) => ref.balance()));
    const random = randomInts(41);
    return {
      concurrency: callers,
      op: () => (refs[random(actors)] as ActorRef<Ledger>).deposit(1),
      teardown: async () => {
        await silo.stop();
        await store.close();
        await snapshots.close();
      },
    };
  };
  const load = `${actors} actors × ${callers} callers`;
  return [
    { name: `raw Lua append (EVALSHA), ${callers} callers`, role: "baseline", setup: raw },
    {
      name: `granary, ${load}`,
      role: "granary",
      baseline: `raw Lua append (EVALSHA), ${callers} callers`,
      targets: [minShareOfBaseline(0.5)],
      setup: granary,
    },
  ];
}

/** 1,000 actors × 100 callers on the Redis store against the bare Lua append on one connection. */
export const esRedis: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const server = await startRedisServer({ appendonly: true });
    try {
      const context: Context = { url: server.url };
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: await runCases(NAME, cases(config, context), config, context),
        settings: {
          actors: config.storeActors,
          callers: config.storeCallers,
          server:
            "throwaway local redis-server (startRedisServer), appendonly yes, appendfsync everysec (Redis default)",
          durability:
            "acknowledged after Redis applied the script; AOF fsync once per second (up to 1 s lost on power loss)",
        },
        notes: [
          "Baseline: one ioredis connection sending EVALSHA of a script that does the same writes as Granary's append (LLEN check, INCR, XADD, RPUSH of the event, HSET of its id, RPUSH of its position on its correlation id's list, PUBLISH) and its time-travel check (MGET of the generation marker and position counter), without idempotency, tombstone and fencing checks. It isolates the runtime and the store client from Redis itself. (Until 2026-12 the baseline had no correlation list and no generation check; those two cost Redis ~24% more instructions per script, counted with callgrind.)",
        ],
      };
    } finally {
      await server.stop();
    }
  },
};
