import type { ActorRef } from "@granary/core";
import { Client } from "@granary/runtime";
import { startRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { BenchCounter } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { BENCH_CLUSTER_KEY, type RemoteSilo, startRemoteSilo } from "../lib/remote-silo.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts } from "../lib/silo.js";
import { minShareOfBaseline } from "../lib/targets.js";
import type { Row, ScenarioResult } from "../lib/types.js";

const NAME = "directory";
const TITLE = "Directory: activating new actors across 3 silos (Redis directory)";
const SILOS = 3;
const CLUSTER = "bench-directory";

/**
 * The raw baseline: the compare-and-set register Granary's Redis directory runs (Redis time,
 * HMGET, liveness of the owner by lease, epoch, HSET, SADD), sent with EVALSHA from one connection.
 * KEYS: entry, epoch, owner's actor set, leases. ARGV: actorKey, siloId, activationId.
 */
const RAW_REGISTER = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = redis.call('HMGET', KEYS[1], 'siloId', 'activationId', 'epoch')
if current[1] then
  local expires = redis.call('ZSCORE', KEYS[4], current[1])
  if expires and tonumber(expires) > now then return {current[1], current[2], current[3], 0} end
end
local epoch = string.format('%d', math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1, now))
redis.call('SET', KEYS[2], epoch)
redis.call('HSET', KEYS[1], 'siloId', ARGV[2], 'activationId', ARGV[3], 'epoch', epoch)
redis.call('SADD', KEYS[3], ARGV[1])
return {ARGV[2], ARGV[3], epoch, 1}
`;

interface Context {
  readonly redisUrl: string;
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const inFlight = config.storeCallers;
  const run = () => `${process.pid}-${Date.now()}`;
  const raw: CaseSpec["setup"] = async () => {
    const redis = new Redis(context.redisUrl);
    const sha = (await redis.script("LOAD", RAW_REGISTER)) as string;
    await redis.zadd("bench:{rawdir}:leases", Date.now() + 3_600_000, "silo-raw");
    const prefix = run();
    let n = 0;
    return {
      concurrency: inFlight,
      op: () => {
        const key = `BenchCounter/${prefix}-${n++}`;
        return redis.evalsha(
          sha,
          4,
          `bench:{rawdir}:entry:${key}`,
          `bench:{rawdir}:epoch:${key}`,
          "bench:{rawdir}:silo-actors:silo-raw",
          "bench:{rawdir}:leases",
          key,
          "silo-raw",
          `activation-${n}`,
        );
      },
      teardown: async () => void redis.disconnect(),
    };
  };
  const activate: CaseSpec["setup"] = async () => {
    const client = await Client.connect({
      redis: context.redisUrl,
      clusterName: CLUSTER,
      clusterKey: BENCH_CLUSTER_KEY,
    });
    const prefix = run();
    let n = 0;
    return {
      concurrency: inFlight,
      op: () => client.get(BenchCounter, `${prefix}-${n++}`).increment(),
      teardown: () => client.close(),
    };
  };
  return [
    { name: `raw Lua register (EVALSHA), ${inFlight} in flight`, role: "baseline", setup: raw },
    {
      name: `granary: first call to new actors, ${SILOS} silos, ${inFlight} in flight`,
      role: "granary",
      baseline: `raw Lua register (EVALSHA), ${inFlight} in flight`,
      targets: [minShareOfBaseline(0.5)],
      setup: activate,
    },
  ];
}

/** Calls per command name from `INFO commandstats`. */
async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const match of (await redis.info("commandstats")).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) {
    stats.set(match[1] as string, Number(match[2]));
  }
  return stats;
}

function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, calls] of after) out.set(name, calls - (before.get(name) ?? 0));
  return out;
}

interface CommandCount {
  perCall: number;
  scriptsPerCall: number;
  byCommand: string;
}

/**
 * Redis commands the whole cluster sends per call while `work` makes `calls` calls: the commands
 * seen during the calls minus those seen during an idle period as long (leases, membership refresh).
 */
async function redisCommandsPerCall(redis: Redis, calls: number, work: () => Promise<void>): Promise<CommandCount> {
  const start = await commandStats(redis);
  const started = performance.now();
  await work();
  const elapsed = performance.now() - started;
  const hot = await commandStats(redis);
  await new Promise((resolve) => setTimeout(resolve, elapsed));
  const idle = delta(await commandStats(redis), hot);
  const during = delta(hot, start);
  let total = 0;
  let scripts = 0;
  const parts: string[] = [];
  for (const [name, count] of during) {
    const extra = count - (idle.get(name) ?? 0) - (name === "info" ? 1 : 0);
    if (extra <= 0) continue;
    total += extra;
    if (name === "evalsha" || name === "eval") scripts += extra;
    parts.push(`${name} ${extra}`);
  }
  return { perCall: total / calls, scriptsPerCall: scripts / calls, byCommand: parts.join(", ") || "none" };
}

/** Redis commands per call to actors already active (the cached hot path must make none). */
async function commandsPerCachedCall(redisUrl: string, calls: number): Promise<CommandCount> {
  const redis = new Redis(redisUrl);
  const client = await Client.connect({ redis: redisUrl, clusterName: CLUSTER, clusterKey: BENCH_CLUSTER_KEY });
  try {
    const refs: ActorRef<BenchCounter>[] = Array.from({ length: 100 }, (_, i) => client.get(BenchCounter, `hot-${i}`));
    // Twice: the first round activates, the second fills every gateway's directory cache.
    for (let round = 0; round < 2; round++) await Promise.all(refs.map((ref) => ref.increment()));
    const random = randomInts(47);
    return await redisCommandsPerCall(redis, calls, async () => {
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = 0; i < calls / 16; i++) await (refs[random(refs.length)] as ActorRef<BenchCounter>).increment();
        }),
      );
    });
  } finally {
    await client.close();
    redis.disconnect();
  }
}

/** Redis commands per first call to a new actor (look-up at the gateway, register at the owner). */
async function commandsPerFirstCall(redisUrl: string, calls: number): Promise<CommandCount> {
  const redis = new Redis(redisUrl);
  const client = await Client.connect({ redis: redisUrl, clusterName: CLUSTER, clusterKey: BENCH_CLUSTER_KEY });
  try {
    const prefix = `first-${process.pid}-${Date.now()}`;
    let n = 0;
    return await redisCommandsPerCall(redis, calls, async () => {
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (n < calls) await client.get(BenchCounter, `${prefix}-${n++}`).increment();
        }),
      );
    });
  } finally {
    await client.close();
    redis.disconnect();
  }
}

/**
 * First calls to new actors (each an activation with a directory registration in Redis) through a
 * client of a 3-silo cluster, against the raw register script; then the Redis commands per call
 * to actors already active (the cached hot path must make none).
 */
export const directory: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const redis = await startRedisServer({ appendonly: true });
    const silos: RemoteSilo[] = [];
    try {
      for (let i = 0; i < SILOS; i++) {
        silos.push(await startRemoteSilo({ redisUrl: redis.url, clusterName: CLUSTER, tracing: "off" }));
      }
      const context: Context = { redisUrl: redis.url };
      const rows: Row[] = await runCases(NAME, cases(config, context), config, context);
      const spread = await Promise.all(silos.map((s) => s.activations()));
      const first = await commandsPerFirstCall(redis.url, config.smoke ? 100 : 4_000);
      const firstRow = rows.find((row) => row.name.startsWith("granary: first call"));
      if (firstRow) {
        rows[rows.indexOf(firstRow)] = {
          ...firstRow,
          extra: {
            ...firstRow.extra,
            redisScriptsPerFirstCall: first.scriptsPerCall,
            redisCommandsPerFirstCall: first.perCall,
          },
        };
      }
      const { perCall, scriptsPerCall, byCommand } = await commandsPerCachedCall(
        redis.url,
        config.smoke ? 160 : 16_000,
      );
      rows.push({
        name: "granary: calls to active actors (cached directory)",
        role: "granary",
        targets: [
          {
            label: "no Redis round trip per call",
            met: scriptsPerCall < 0.001,
            actual: `${scriptsPerCall.toFixed(4)} script round trips per call`,
          },
        ],
        extra: {
          summary: `${scriptsPerCall.toFixed(4)} Redis round trips/call`,
          redisScriptsPerCall: scriptsPerCall,
          redisCommandsPerCall: perCall,
          redisCommandsBeyondIdle: byCommand,
        },
      });
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows,
        settings: {
          silos: SILOS,
          inFlight: config.storeCallers,
          activationsPerSilo: spread,
          redis: "throwaway local redis-server, AOF on (appendfsync everysec)",
          placement: "default (random among live silos for client calls)",
        },
        notes: [
          `Activations per silo after the runs: ${spread.join(" / ")}.`,
          `Redis commands (counting those inside scripts) during ${config.smoke ? 160 : 16_000} cached calls, beyond an idle period as long: ${byCommand}.`,
          `Per first call to a new actor: ${first.scriptsPerCall.toFixed(2)} script round trips (the gateway's look-up, the owner's register; the owner no longer looks the actor up again), ${first.perCall.toFixed(1)} Redis commands counting those inside scripts: ${first.byCommand}.`,
          "Baseline: the same compare-and-set register script the Redis directory runs (with Redis time, as Granary's; until 2026-12 the baseline passed the client's clock instead), from one connection. The Granary row adds the client, the gateway hop and its directory look-up, placement, the activation and its first call.",
          "2 cores: three silo processes, Redis and the client share them, so this measures overhead rather than parallel speed-up.",
        ],
      };
    } finally {
      for (const silo of silos) await silo.stop();
      await redis.stop();
    }
  },
};
