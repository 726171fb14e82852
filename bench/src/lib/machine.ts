import { cpus, loadavg, release, totalmem, type } from "node:os";

/** Where the numbers were measured: every result file carries this. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly v8: string;
  /** 1, 5 and 15 minute load averages when the scenario started: > cores means the numbers are noisy. */
  readonly loadAverage: readonly number[];
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os: `${type()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
