import type { Client } from "@granary/runtime";
import { Redis } from "ioredis";

/** The counters a cluster row reads around each run (see Workload.counters). CPU in microseconds. */
export const ClusterCounter = {
  /** CPU of the benchmark's own process: the client (its other threads idle meanwhile). */
  CpuClient: "cpuClientUs",
  /** CPU of the silo processes (each counted once; an in-process silo is in CpuClient). */
  CpuSilos: "cpuSilosUs",
  /** CPU of redis-server (INFO cpu: used_cpu_user + used_cpu_sys). */
  CpuRedis: "cpuRedisUs",
  /** The three summed: what one call costs the whole machine. */
  Cpu: "cpuUs",
  /** Client calls the silos received, and forwarded to another silo (SiloInfo.routing). */
  ClientCalls: "clientCalls",
  Forwarded: "forwarded",
  /** Calls the client sent straight to the actor's known owner (Client.routing). */
  ToKnownOwner: "toKnownOwner",
} as const;

export interface ClusterCounters {
  read(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * Reads CPU time and routing counters of every process of a cluster row: this process
 * (`process.cpuUsage()`), each silo (its operator info, asked through `client`), and Redis.
 */
export function clusterCounters(client: Client, redisUrl: string): ClusterCounters {
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
  return {
    async read() {
      const [reports, cpuInfo] = await Promise.all([client.operator.silos(), redis.info("cpu")]);
      let silosUs = 0;
      let clientCalls = 0;
      let forwarded = 0;
      const pids = new Set<number>([process.pid]);
      for (const report of reports) {
        if (!("info" in report)) throw new Error(`silo ${report.address} did not report: ${report.error}`);
        const { info } = report;
        clientCalls += info.routing.clientCalls;
        forwarded += info.routing.clientCallsForwarded;
        if (pids.has(info.pid)) continue;
        pids.add(info.pid);
        silosUs += info.cpu.userMicros + info.cpu.systemMicros;
      }
      const own = process.cpuUsage();
      const clientUs = own.user + own.system;
      const redisUs = (seconds(cpuInfo, "used_cpu_user") + seconds(cpuInfo, "used_cpu_sys")) * 1e6;
      return {
        [ClusterCounter.CpuClient]: clientUs,
        [ClusterCounter.CpuSilos]: silosUs,
        [ClusterCounter.CpuRedis]: redisUs,
        [ClusterCounter.Cpu]: clientUs + silosUs + redisUs,
        [ClusterCounter.ClientCalls]: clientCalls,
        [ClusterCounter.Forwarded]: forwarded,
        [ClusterCounter.ToKnownOwner]: client.routing.callsToKnownOwner,
      };
    },
    async close() {
      await redis.quit();
    },
  };
}

function seconds(info: string, field: string): number {
  const match = new RegExp(`^${field}:([0-9.]+)`, "m").exec(info);
  if (!match) throw new Error(`Redis INFO cpu has no ${field}`);
  return Number(match[1]);
}
