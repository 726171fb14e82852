import { Actor, type EventEnvelope } from "@granary/core";
import { RedisEventStore } from "@granary/redis";
import type { Silo } from "@granary/runtime";
import { startRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import type { BenchConfig } from "../lib/config.js";
import type { Scenario } from "../lib/scenario.js";
import { startBenchSilo } from "../lib/silo.js";
import { median } from "../lib/stats.js";
import { minShareOfBaseline } from "../lib/targets.js";
import type { Row, ScenarioResult } from "../lib/types.js";

const NAME = "bus-fanout";
const TITLE = "Event bus fan-out: 100 subscribers on 3 silos (Redis), against raw Redis pub/sub";
const SUBSCRIBERS = 100;
const SILOS = 3;
const BATCH = 100;

class Idle extends Actor {
  static readonly type = "Idle";
}

function events(stream: string, from: number, count: number): EventEnvelope[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `01B${(from + i + Math.floor(Math.random() * 1e12)).toString(32).toUpperCase().padStart(23, "0")}`;
    return {
      id,
      type: "Ticked",
      stream,
      version: from + i + 1,
      schemaVersion: 1,
      data: { n: from + i },
      metadata: { correlationId: id, causationId: id, commandId: id },
      timestamp: new Date().toISOString(),
    };
  });
}

/** Deliveries per second: `count` events committed in batches, each delivered to every subscriber. */
async function granaryFanout(url: string, count: number): Promise<number> {
  const silos: Silo[] = [];
  for (let i = 0; i < SILOS; i++) {
    silos.push(
      await startBenchSilo({ actors: [Idle], store: new RedisEventStore({ redis: url, logger: { warn: () => {} } }) }),
    );
  }
  let delivered = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const subscriptions = Array.from({ length: SUBSCRIBERS }, (_, i) =>
    (silos[i % SILOS] as Silo).events.subscribe("default.Bench.Ticked", () => {
      if (++delivered === count * SUBSCRIBERS) done();
    }),
  );
  await Promise.all(subscriptions.map((s) => s.ready));
  const writer = new RedisEventStore({ redis: url, logger: { warn: () => {} } });
  const stream = `Bench/${Date.now()}`;
  const started = performance.now();
  for (let n = 0; n < count; n += BATCH) await writer.append(stream, n, events(stream, n, Math.min(BATCH, count - n)));
  await all;
  const elapsed = performance.now() - started;
  await Promise.all(subscriptions.map((s) => s.close()));
  await writer.close();
  for (const silo of silos) await silo.stop();
  return (count * SUBSCRIBERS * 1_000) / elapsed;
}

/** The baseline: 3 subscriber connections (one per "silo"), 100 handlers, PUBLISH of each event's JSON. */
async function rawFanout(url: string, count: number): Promise<number> {
  const subscribers = Array.from({ length: SILOS }, () => new Redis(url));
  const publisher = new Redis(url);
  let delivered = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const handlersPer = (i: number) => Math.floor(SUBSCRIBERS / SILOS) + (i < SUBSCRIBERS % SILOS ? 1 : 0);
  await Promise.all(
    subscribers.map(async (redis, i) => {
      const handlers = Array.from({ length: handlersPer(i) }, () => (message: string) => {
        JSON.parse(message);
        if (++delivered === count * SUBSCRIBERS) done();
      });
      redis.on("message", (_channel: string, message: string) => {
        for (const handler of handlers) handler(message);
      });
      await redis.subscribe("bench:ticked");
    }),
  );
  const started = performance.now();
  for (let n = 0; n < count; n += BATCH) {
    const pipeline = publisher.pipeline();
    for (const event of events("Raw/1", n, Math.min(BATCH, count - n)))
      pipeline.publish("bench:ticked", JSON.stringify(event));
    await pipeline.exec();
  }
  await all;
  const elapsed = performance.now() - started;
  for (const redis of [...subscribers, publisher]) redis.disconnect();
  return (count * SUBSCRIBERS * 1_000) / elapsed;
}

/**
 * Events committed through the Redis event store in batches of 100, each delivered to 100 bus
 * subscribers spread over 3 silos (each silo follows the feed once and fans out in process),
 * against raw Redis pub/sub with the same connections and handlers. Deliveries per second.
 */
export const busFanout: Scenario = {
  name: NAME,
  title: TITLE,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const count = config.smoke ? 200 : Number(process.env.BENCH_FANOUT_EVENTS ?? 20_000);
    const runs = Math.max(1, Math.min(config.runs, 3));
    const server = await startRedisServer();
    const raw: number[] = [];
    const granary: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        raw.push(await rawFanout(server.url, count));
        granary.push(await granaryFanout(server.url, count));
      }
    } finally {
      await server.stop();
    }
    const granaryRow: Row = {
      name: "granary bus, 100 subscribers on 3 silos",
      role: "granary",
      opsPerSec: median(granary),
      baseline: "raw Redis pub/sub, 100 handlers on 3 connections",
      ratio: median(granary.map((g, i) => g / (raw[i] as number))),
      ratioKind: "throughput",
      targets: [],
      runs: granary,
    };
    return {
      scenario: NAME,
      title: TITLE,
      status: "ok",
      rows: [
        {
          name: "raw Redis pub/sub, 100 handlers on 3 connections",
          role: "baseline",
          opsPerSec: median(raw),
          targets: [],
          runs: raw,
        },
        { ...granaryRow, targets: [minShareOfBaseline(0.5).check(granaryRow)] },
      ],
      settings: { events: count, subscribers: SUBSCRIBERS, silos: SILOS, batch: BATCH, runs },
      notes: [
        "Deliveries/s = events × subscribers ÷ time from the first commit to the last delivery. Granary's events are durable commits (Lua append script) read back from the feed; the raw baseline only publishes. The issue sets no target for this row; ≥ 50% is shown for orientation.",
      ],
    };
  },
};
