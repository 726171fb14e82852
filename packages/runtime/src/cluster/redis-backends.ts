import {
  type Directory,
  type EventStore,
  isGranaryError,
  type Membership,
  type ReminderStore,
  type SnapshotStore,
} from "@granary/core";
import type { Logger } from "pino";
import { loadOptionalPackage } from "../options/optional-package.js";

export interface ClusterBackends {
  readonly membership: Membership;
  readonly directory: Directory;
  /** Present when the silo should also keep its events in Redis (no `store` given). */
  readonly store?: EventStore;
  readonly snapshots?: SnapshotStore;
  /** Reminders on the cluster's Redis (used unless the silo was given a reminder store). */
  readonly reminders?: ReminderStore;
  close(): Promise<void>;
}

/**
 * Membership, directory and (unless another store was given) the event store, all on one Redis.
 * The directory, stores and reminders share one command connection (their commands of a tick go
 * out in one write); membership keeps its own, so lease renewal never waits in line behind a burst
 * of appends or directory look-ups (issue: a busy silo must not fence itself).
 */
export async function openRedisBackends(
  url: string,
  cluster: string,
  logger: Logger,
  withStores: boolean,
): Promise<ClusterBackends> {
  const { RedisDirectory, RedisEventStore, RedisMembership, RedisReminderStore, RedisSnapshotStore, openSharedRedis } =
    await loadOptionalPackage(
      () => import("@granary/redis"),
      "@granary/redis",
      "redis",
      "inject `membership` and `directory` instead of giving a Redis URL",
    );
  const redisLogger = logger.child({ component: "redis" });
  const membership = new RedisMembership({ redis: url, cluster, logger: redisLogger });
  const shared = openSharedRedis(url, { logger: redisLogger });
  const redis = shared.client;
  const directory = new RedisDirectory({ redis, cluster, logger: redisLogger });
  const reminders = new RedisReminderStore({ redis, logger: redisLogger });
  const stores = withStores
    ? {
        store: new RedisEventStore({ redis, logger: redisLogger }),
        snapshots: new RedisSnapshotStore({ redis, logger: redisLogger }),
      }
    : {};
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled([
      reminders.close(),
      membership.close(),
      directory.close(),
      stores.store?.close(),
      stores.snapshots?.close(),
    ]);
    // After the adapters: they wait for their commands in flight on it.
    await shared.close();
  };
  // A Redis without AOF stops the start here (INVALID_CONFIGURATION naming allowDataLossWithoutAof).
  await stores.store?.ready().catch(async (error: unknown) => {
    if (!isGranaryError(error, "INVALID_CONFIGURATION")) return; // Redis down: the first write asks again
    await closeAll();
    throw error;
  });
  return {
    membership,
    directory,
    ...stores,
    reminders,
    close: closeAll,
  };
}
