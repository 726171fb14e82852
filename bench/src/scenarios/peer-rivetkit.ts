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
import type { Scenario } from "../lib/scenario.js";
import { randomInts } from "../lib/silo.js";
import { scratchDir } from "../lib/tmp.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "peer-rivetkit";
const TITLE = "Peer: rivetkit actors (local Rivet Engine), request/reply";
/** rivetkit's `engines`: node >= 22. */
const MIN_NODE = 22;

interface Context {
  readonly endpoint: string;
  /** Ids of the rivetkit actors: one for each sequential row, then the load's. */
  readonly rivetActors: readonly string[];
  readonly redisUrl: string;
  readonly clusterName: string;
}

/** The part of rivetkit's client these rows use (its module loads only on Node ≥ 22). */
interface CounterCalls {
  increment(): Promise<number>;
}
interface Disposable {
  dispose(): Promise<void>;
}
interface CounterHandle extends CounterCalls {
  connect(): CounterCalls & Disposable;
  /** The actor's id (creating it if needed). */
  resolve(): Promise<string>;
}
interface RivetClient {
  readonly counter: { getOrCreate(key: string[]): CounterHandle; getForId(actorId: string): CounterHandle };
  dispose(): Promise<void>;
}

async function rivetClient(endpoint: string): Promise<RivetClient> {
  const { createClient } = (await import("rivetkit/client")) as unknown as {
    createClient(endpoint: string): RivetClient;
  };
  return createClient(endpoint);
}

const CREATE_ATTEMPTS = 5;

/**
 * Creates and starts `n` counter actors and returns their ids, all at once right after the engine started.
 * The local engine here now and then fails to start an actor within its limits
 * (route_resolve_query_timeout, actor_ready_timeout, pegboard_actor_create timed out), and a key
 * whose actor failed keeps failing: those are created again under other keys. The cases then
 * reach their actors by id (getForId), which skips the key lookup on every connect and call.
 */
async function createRivetActors(endpoint: string, n: number): Promise<string[]> {
  const client = await rivetClient(endpoint);
  try {
    const ids: (string | undefined)[] = new Array(n).fill(undefined);
    for (let attempt = 1; ids.includes(undefined); attempt++) {
      const failures: unknown[] = [];
      await Promise.all(
        ids.map(async (id, i) => {
          if (id !== undefined) return;
          try {
            const actorId = await client.counter.getOrCreate([`counter-${i}-${attempt}`]).resolve();
            // Created is not started: the first call starts it (and it stays awake: sleepTimeout).
            await client.counter.getForId(actorId).increment();
            ids[i] = actorId;
          } catch (error) {
            failures.push(error);
          }
        }),
      );
      if (failures.length > 0 && attempt >= CREATE_ATTEMPTS) throw failures[0];
    }
    return ids as string[];
  } finally {
    await client.dispose();
  }
}

function sizes(config: BenchConfig): { actors: number; callers: number } {
  // Ten actors: creating a hundred through the local engine here did not finish in 8 minutes
  // (most creations timed out at 15 s); twelve at once start in ~4 s.
  return { actors: Math.min(config.storeActors, 10), callers: Math.min(config.storeCallers, 100) };
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
      const handles = ids.map((id) => client.counter.getForId(id));
      const conns = connected ? handles.map((handle) => handle.connect()) : [];
      // A handle is a proxy whose every property is an action: calls go to the connections or the handles.
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
      setup: rivet(1, context.rivetActors.slice(0, 1), true),
    },
    {
      name: "rivetkit stateless handle → actor, sequential",
      role: "peer",
      baseline: remoteSeq,
      setup: rivet(1, context.rivetActors.slice(1, 2), false),
    },
    { name: `granary silo.get, ${load}`, role: "granary", setup: inProcess(callers, keys("g", actors)) },
    { name: remoteLoad, role: "granary", setup: remote(callers, keys("s", actors)) },
    {
      name: `rivetkit connections → actors, ${load}`,
      role: "peer",
      baseline: remoteLoad,
      setup: rivet(callers, context.rivetActors.slice(2, 2 + actors), true),
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
      const { actors, callers } = sizes(config);
      const rivetActors = await createRivetActors(host.endpoint, 2 + actors);
      const context: Context = {
        endpoint: host.endpoint,
        rivetActors,
        redisUrl: redis.url,
        clusterName: silo.clusterName,
      };
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows: await runCases(NAME, cases(config, context), config, context),
        settings: {
          node: process.version,
          rivetkit: `${rivetkitVersion()}: registry.startAndWait() with startEngine (the engine binary from @rivetkit/engine-cli, its files on tmpfs), native (N-API) runtime, actor with ephemeral vars and a 1 h sleepTimeout`,
          granary:
            "silo.get in process (memory stores); Client.connect({ redis }) → a cluster-mode silo in another process",
          actors,
          callers,
        },
        notes: [
          `Both sides run on Node ${process.version}: rivetkit needs Node ≥ ${MIN_NODE}, so on an older machine Node the scenario's process runs on Node ${NODE24_VERSION} from the CI cache.`,
          "rivetkit 2.3 has no in-memory or in-process driver: a call goes client → Rivet Engine (a Rust process, its gateway) → the registry's envoy in the actor's Node process → the actor, and back. Its rows are compared with a Granary client calling a silo in another process (ratio = peer ÷ Granary); the in-process Granary rows show what an embedded runtime skips.",
          "The actors are created before the rows (creating one through the local engine here sometimes times out; those are created again under other keys) and kept awake; the rows reach them by id. The connection rows call over one WebSocket per actor (connect()); the stateless handle sends one HTTP request per action through the engine.",
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
