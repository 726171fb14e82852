import type { ActorRef } from "@granary/core";
import { Client } from "@granary/runtime";
import { startRedisServer } from "@granary/testing";
import { BenchCounter } from "../lib/actors.js";
import type { BenchConfig } from "../lib/config.js";
import { EchoClient, startEchoServer } from "../lib/echo-link.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { BENCH_CLUSTER_KEY, startRemoteSilo } from "../lib/remote-silo.js";
import type { Scenario } from "../lib/scenario.js";
import { randomInts } from "../lib/silo.js";
import { maxLatencyFactor, minShareOfBaseline } from "../lib/targets.js";
import { scratchDir } from "../lib/tmp.js";
import { acquireTracing, type TracingMode } from "../lib/tracing.js";
import type { Row, ScenarioResult } from "../lib/types.js";

const NAME = "cross-silo";
const TITLE = "Cross-silo call (client → silo in another process)";

interface Context {
  readonly echoPort: number;
  readonly redisUrl: string;
  readonly clusterName: string;
}

/** A client in this thread calling BenchCounter.increment on the silo of `clusterName`. */
export function granaryClientCase(
  config: BenchConfig,
  redisUrl: string,
  clusterName: string,
  inFlight: number,
  tracing: TracingMode,
): CaseSpec["setup"] {
  return async () => {
    const shared = tracing === "off" ? undefined : acquireTracing();
    if (shared) shared.tracing.mode = tracing;
    const client = await Client.connect({ redis: redisUrl, clusterName, clusterKey: BENCH_CLUSTER_KEY });
    const refs: ActorRef<BenchCounter>[] = Array.from({ length: config.storeActors }, (_, i) =>
      client.get(BenchCounter, `x-${i}`),
    );
    await Promise.all(refs.map((ref) => ref.increment()));
    const random = randomInts(43);
    return {
      concurrency: inFlight,
      op: () => (refs[random(refs.length)] as ActorRef<BenchCounter>).increment(),
      teardown: async () => {
        await client.close();
        await shared?.release();
      },
    };
  };
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const raw = (inFlight: number): CaseSpec["setup"] => {
    return async () => {
      const client = await EchoClient.connect(context.echoPort);
      const args = [1];
      return {
        concurrency: inFlight,
        op: (worker) => client.call("BenchCounter", `c-${worker}`, "increment", args),
        teardown: async () => client.close(),
      };
    };
  };
  return config.inFlight.flatMap((n): CaseSpec[] => [
    { name: `raw msgpackr echo over TCP, ${n} in flight`, role: "baseline", setup: raw(n) },
    {
      name: `granary client → silo, ${n} in flight`,
      role: "granary",
      baseline: `raw msgpackr echo over TCP, ${n} in flight`,
      targets: [minShareOfBaseline(0.5), ...(n === 1 ? [maxLatencyFactor(1.5)] : [])],
      setup: granaryClientCase(config, context.redisUrl, context.clusterName, n, "off"),
    },
  ]);
}

/**
 * 1, 16 and 256 calls in flight from a Client to a plain actor on a silo in another process
 * (cluster mode on a throwaway Redis), against a raw msgpackr echo over TCP. The p50 target is
 * checked at 1 in flight (sequential), where latency is not queueing.
 */
export const crossSilo: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const dir = scratchDir(config, NAME);
    const server = await startEchoServer(dir.path);
    const redis = await startRedisServer({ appendonly: true });
    const silo = await startRemoteSilo({
      redisUrl: redis.url,
      clusterName: "bench-cross-silo",
      tracing: "off",
    });
    try {
      const context: Context = {
        echoPort: server.port,
        redisUrl: redis.url,
        clusterName: silo.clusterName,
      };
      const rows: Row[] = await runCases(NAME, cases(config, context), config, context);
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows,
        settings: {
          transport:
            "TCP on 127.0.0.1, Nagle off, one connection, writes coalesced per tick (process.nextTick) on both sides",
          serverProcess: "a separate node process (its own event loop, as a remote silo)",
          inFlight: config.inFlight,
          granary:
            "Client.connect({ redis }) → silo (cluster mode, own process, MemoryEventStore) → BenchCounter.increment on 1,000 active actors",
        },
        notes: [
          "Baseline: length-prefixed msgpackr frames, replies matched by id, echo server in another process. It isolates loopback TCP, two event loops and the codec: the floor under any RPC; the Granary rows add the handshake-authenticated transport, the client, directory lookup and the actor turn.",
        ],
      };
    } finally {
      await silo.stop();
      await redis.stop();
      await server.stop();
      dir.remove();
    }
  },
};
