import type { Directory, EventStore, Membership, ReminderStore, SnapshotStore } from "@granary/core";
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

/** Membership, directory and (unless another store was given) the event store, all on one Redis. */
export async function openRedisBackends(
  url: string,
  cluster: string,
  logger: Logger,
  withStores: boolean,
): Promise<ClusterBackends> {
  const { RedisDirectory, RedisEventStore, RedisMembership, RedisReminderStore, RedisSnapshotStore } =
    await loadOptionalPackage(
      () => import("@granary/redis"),
      "@granary/redis",
      "redis",
      "inject `membership` and `directory` instead of giving a Redis URL",
    );
  const redisLogger = logger.child({ component: "redis" });
  const membership = new RedisMembership({ redis: url, cluster, logger: redisLogger });
  const directory = new RedisDirectory({ redis: url, cluster, logger: redisLogger });
  const reminders = new RedisReminderStore({ redis: url, logger: redisLogger });
  const stores = withStores
    ? {
        store: new RedisEventStore({ redis: url, logger: redisLogger }),
        snapshots: new RedisSnapshotStore({ redis: url, logger: redisLogger }),
      }
    : {};
  return {
    membership,
    directory,
    ...stores,
    reminders,
    async close() {
      await Promise.allSettled([
        reminders.close(),
        membership.close(),
        directory.close(),
        stores.store?.close(),
        stores.snapshots?.close(),
      ]);
    },
  };
}
