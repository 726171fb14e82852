import { InvalidConfigurationError } from "@granary/core";
import { metrics } from "@opentelemetry/api";
import type { ProjectionStatus } from "./projection-progress.js";
import type { RunnerOptions } from "./projection-runner.js";

/** Tuning of the read side (`Silo.start({ readSide: { ... } })`); every field optional. */
export interface ReadSideTuning {
  /** Events per catch-up read and most events per projection commit. @default 1_000 */
  readonly batchSize?: number;
  /** Documents a projection keeps in memory between batches (speeds up rebuilds). @default 10_000 */
  readonly documentCacheSize?: number;
  /** How often a silo checks which projections it should run (takeover after a silo died). @default 1_000 (ms) */
  readonly ownershipCheckMs?: number;
  /** How often a running projection looks up the feed head (lag metric, ready). @default 1_000 (ms) */
  readonly headIntervalMs?: number;
  /**
   * After a rebuilt version is ready, how long the versions it replaces are kept (queries on every
   * silo switch over within a second) before they are deleted. @default 10_000 (ms)
   */
  readonly dropOldVersionsAfterMs?: number;
}

export interface ReadSideSettings {
  readonly ownershipCheckMs: number;
  readonly dropAfterMs: number;
  readonly runner: Pick<RunnerOptions, "batchSize" | "cacheSize" | "checkDocuments" | "headIntervalMs">;
}

export const DEFAULT_PROJECTION_BATCH_SIZE = 1_000;
export const DEFAULT_DOCUMENT_CACHE_SIZE = 10_000;
export const DEFAULT_OWNERSHIP_CHECK_MS = 1_000;
export const DEFAULT_HEAD_INTERVAL_MS = 1_000;
export const DEFAULT_DROP_AFTER_MS = 10_000;

/** @throws InvalidConfigurationError naming the option */
export function resolveReadSideSettings(tuning: ReadSideTuning = {}, checkDocuments = true): ReadSideSettings {
  const int = (name: keyof ReadSideTuning, value: number | undefined, fallback: number, min: number): number => {
    const chosen = value ?? fallback;
    if (!Number.isSafeInteger(chosen) || chosen < min) {
      throw new InvalidConfigurationError(`readSide.${name}`, `must be an integer >= ${min}, got ${chosen}`);
    }
    return chosen;
  };
  return {
    ownershipCheckMs: int("ownershipCheckMs", tuning.ownershipCheckMs, DEFAULT_OWNERSHIP_CHECK_MS, 10),
    dropAfterMs: int("dropOldVersionsAfterMs", tuning.dropOldVersionsAfterMs, DEFAULT_DROP_AFTER_MS, 0),
    runner: {
      batchSize: int("batchSize", tuning.batchSize, DEFAULT_PROJECTION_BATCH_SIZE, 1),
      cacheSize: int("documentCacheSize", tuning.documentCacheSize, DEFAULT_DOCUMENT_CACHE_SIZE, 0),
      headIntervalMs: int("headIntervalMs", tuning.headIntervalMs, DEFAULT_HEAD_INTERVAL_MS, 10),
      checkDocuments,
    },
  };
}

/**
 * `granary.projection.lag` (head − checkpoint, in feed positions) per projection running on this
 * silo, as an OpenTelemetry observable gauge; a no-op until the application registers an SDK.
 * Returns the function that detaches it.
 */
export function registerLagGauge(statuses: () => readonly ProjectionStatus[]): () => void {
  const meter = metrics.getMeter("@granary/runtime");
  const gauge = meter.createObservableGauge("granary.projection.lag", {
    description: "Feed positions committed but not yet processed by the projection (head - checkpoint)",
  });
  const callback = (result: { observe(value: number, attributes: Record<string, string>): void }): void => {
    for (const status of statuses()) {
      result.observe(status.lag, { projection: status.name, version: String(status.version), state: status.state });
    }
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
