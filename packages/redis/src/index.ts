/**
 * @granary/redis — Granary on Redis: cluster membership and actor directory (what lets N silos
 * share actors), and an event store and snapshot store for small to medium deployments.
 *
 * Every decision that needs atomicity (register-if-owner-dead, append with version, fencing and
 * idempotency checks) is one Lua script, and all time comes from the Redis server clock. Commands
 * fail fast with ConnectionError while Redis is unreachable; the client reconnects by itself.
 * Keys look like `granary:{<namespace or cluster>}:...` so operators can inspect them with redis-cli.
 *
 * @example
 * import { RedisDirectory, RedisEventStore, RedisMembership, RedisSnapshotStore } from "@granary/redis";
 *
 * const redis = "redis://127.0.0.1:6379";
 * const membership = new RedisMembership({ redis, cluster: "shop" });
 * const directory = new RedisDirectory({ redis, cluster: "shop" });
 * const events = new RedisEventStore({ redis, namespace: "tenant-a", logger }); // warns if AOF is off
 * const snapshots = new RedisSnapshotStore({ redis, namespace: "tenant-a" });
 *
 * await membership.join({ siloId: "silo-1", host: "10.0.0.5", port: 11111, startedAt: Date.now() }, 10_000);
 * const { epoch } = await directory.register("Account/acc-1", "silo-1", "activation-1");
 * await events.append("Account/acc-1", 0, [event], { epoch });
 */
export type { RedisPersistenceStatus } from "./persistence-check.js";
export { RedisDirectory } from "./redis-directory.js";
export { RedisEventStore } from "./redis-event-store.js";
export { RedisKeyStore, type RedisKeyStoreOptions } from "./redis-key-store.js";
export { RedisMembership } from "./redis-membership.js";
export {
  type AnyRedisOptions,
  DEFAULT_CLUSTER,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_NAMESPACE,
  DEFAULT_WATCH_POLL_INTERVAL_MS,
  type RedisDirectoryOptions,
  type RedisEventStoreOptions,
  type RedisLogger,
  type RedisMembershipOptions,
  type RedisOptions,
  type RedisSnapshotStoreOptions,
  type ResolvedRedisOptions,
  resolveRedisOptions,
} from "./redis-options.js";
export { RedisProjectionStore } from "./redis-projection-store.js";
export { RedisReminderStore } from "./redis-reminder-store.js";
export { RedisSnapshotStore } from "./redis-snapshot-store.js";
export { openSharedRedis, type SharedRedis } from "./shared-redis.js";
