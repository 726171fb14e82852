import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ActorRef } from "@granary/core";
import { MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { Client } from "@granary/runtime";
import { startRedisServer } from "@granary/testing";
import { BenchCounter } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { granaryCounterCase } from "../lib/counter-cases.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { NODE24_VERSION, nodeMajor, runUnderNode24 } from "../lib/node24.js";
import { BENCH_CLUSTER_KEY, startRemoteSilo } from "../lib/remote-silo.js";
import { startRivetkitHost } from "../lib/rivetkit-host.js";
import { randomInts } from "../lib/silo.js";
import { scratchDir } from "../lib/tmp.js";
import type { Scenario, ScenarioResult } from "../lib/types.js";

const NAME = "peer-rivetkit";
const TITLE = "Peer: rivetkit actors (local Rivet Engine), request/reply";
/** rivetkit's `engines`: node >= 22. */
const MIN_NODE = 22;

interface Context {
  readonly endpoint: string;
  readonly redisUrl: string;
  readonly clusterName: string;
}

/** The part of rivetkit's client these rows use (its module loads only on Node ≥ 22). */
interface CounterCalls {
  increment(): Promise<number>;
}
interface RivetClient {
  readonly counter: { getOrCreate(key: string[]): CounterCalls & { connect(): CounterCalls & Disposable } };
  dispose(): Promise<void>;
}
interface Disposable {
  dispose(): Promise<void>;
}

async function rivetClient(endpoint: string): Promise<RivetClient> {
  const { createClient } = (await import("rivetkit/client")) as unknown as {
    createClient(endpoint: string): RivetClient;
  };
  return createClient(endpoint);
}

function sizes(config: BenchConfig): { actors: number; callers: number } {
  // A rivetkit actor takes ~0.1 s to create through the engine here: a hundred, not thousands.
  return { actors: Math.min(config.storeActors, 100), callers: Math.min(config.storeCallers, 100) };
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const { actors, callers } = sizes(config);
  const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const memory = () => ({ store: new MemoryEventStore(), snapshots: new MemorySnapshotStore() });
  // Memory stores: the default SQLite file needs better-sqlite3 built for this Node's ABI.
  const inProcess = (n: number, ids: readonly string[]) => granaryCounterCase(n, ids, 61, memory());
  const remote = (n: number, ids: readonly string[]): CaseSpec["setup"] => {
    return async () => {
      const client = await Client.connect({
        redis: context.redisUrl,
        clusterName: context.clusterName,
        clusterKey: BENCH_CLUSTER_KEY,
      });
      const refs: ActorRef<BenchCounter>[] = ids.map((id) => client.get(BenchCounter, id));
      await Promise.all(refs.map((ref) => ref.increment()));
      const random = randomInts(67);
      return {
        concurrency: n,
        op: () => (refs[random(refs.length)] as ActorRef<BenchCounter>).increment(),
        teardown: () => client.close(),
      };
    };
  };
  const rivet = (n: number, ids: readonly string[], connected: boolean): CaseSpec["setup"] => {
    return async () => {
      const client = await rivetClient(context.endpoint);
      const handles = ids.map((id) => client.counter.getOrCreate([id]));
      const conns = connected ? handles.map((handle) => handle.connect()) : [];
      const targets: CounterCalls[] = connected ? conns : handles;
      await Promise.all(targets.map((target) => target.increment()));
      const random = randomInts(71);
      return {
        concurrency: n,
        op: () => (targets[random(targets.length)] as CounterCalls).increment(),
        teardown: async () => {
          await Promise.all(conns.map((conn) => conn.dispose()));
          await client.dispose();
        },
      };
    };
  };
  const load = `${actors} actors × ${callers} callers`;
  const remoteSeq = "granary client → silo process, sequential";
  const remoteLoad = `granary client → silo process, ${load}`;
  return [
    { name: "granary silo.get, sequential", role: "granary", setup: inProcess(1, keys("g", 1)) },
    { name: remoteSeq, role: "granary", setup: remote(1, keys("s", 1)) },
    {
      name: "rivetkit connection → actor, sequential",
      role: "peer",
      baseline: remoteSeq,
      setup: rivet(1, keys("rc", 1), true),
    },
    {
      name: "rivetkit stateless handle → actor, sequential",
      role: "peer",
      baseline: remoteSeq,
      setup: rivet(1, keys("rh", 1), false),
    },
    { name: `granary silo.get, ${load}`, role: "granary", setup: inProcess(callers, keys("g", actors)) },
    { name: remoteLoad, role: "granary", setup: remote(callers, keys("s", actors)) },
    {
      name: `rivetkit connections → actors, ${load}`,
      role: "peer",
      baseline: remoteLoad,
      setup: rivet(callers, keys("rc", actors), true),
    },
  ];
}

/**
 * A counter actor on rivetkit next to Granary's plain actor, under the same Node (24: rivetkit
 * needs ≥ 22). rivetkit has no in-process mode, so its rows are compared with a Granary client
 * calling a silo in another process; Granary's in-process call is shown beside them.
 */
export const peerRivetkit: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  minNodeMajor: MIN_NODE,
  // Node 24 start, engine start and actor creation through it, on a shared 2-core machine.
  smokeTimeoutMs: 300_000,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    if (nodeMajor() < MIN_NODE) return runUnderNode24(NAME, TITLE, config);
    process.env.RIVET_LOG_LEVEL ??= "error";
    const dir = scratchDir(config, NAME);
    const redis = await startRedisServer({ appendonly: true });
    const stops: (() => Promise<void>)[] = [() => redis.stop()];
    try {
      const silo = await startRemoteSilo({ redisUrl: redis.url, clusterName: "bench-peer-rivetkit", tracing: "off" });
      stops.push(() => silo.stop());
      const host = await startRivetkitHost(dir.path);
      stops.push(() => host.stop());
      const context: Context = { endpoint: host.endpoint, redisUrl: redis.url, clusterName: silo.clusterName };
      const { actors, callers } = sizes(config);
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: await runCases(NAME, cases(config, context), config, context),
        settings: {
          node: process.version,
          rivetkit: `${rivetkitVersion()}: registry.startAndWait() with startEngine (the engine binary from @rivetkit/engine-cli, files in a scratch HOME), native (N-API) runtime, actor with ephemeral vars`,
          granary:
            "silo.get in process (memory stores); Client.connect({ redis }) → a cluster-mode silo in another process",
          actors,
          callers,
        },
        notes: [
          `Both sides run on Node ${process.version}: rivetkit needs Node ≥ ${MIN_NODE}, so on an older machine Node the scenario's process runs on Node ${NODE24_VERSION} from the CI cache.`,
          "rivetkit 2.3 has no in-memory or in-process driver: a call goes client → Rivet Engine (a Rust process, its gateway) → the registry's envoy in the actor's Node process → the actor, and back. Its rows are compared with a Granary client calling a silo in another process (ratio = peer ÷ Granary); the in-process Granary rows show what an embedded runtime skips.",
          "The connection rows call over one WebSocket per actor (handle.connect()); the stateless handle sends one HTTP request per action through the engine.",
        ],
      };
    } finally {
      for (const stop of stops.reverse()) await stop();
      dir.remove();
    }
  },
};

/** rivetkit does not export its package.json: read it beside its entry point (dist/tsup/mod.js). */
function rivetkitVersion(): string {
  const entry = createRequire(import.meta.url).resolve("rivetkit");
  const file = join(dirname(entry), "..", "..", "package.json");
  return `rivetkit ${(JSON.parse(readFileSync(file, "utf8")) as { version: string }).version}`;
}
