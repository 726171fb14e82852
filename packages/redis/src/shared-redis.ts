import type { Redis } from "ioredis";
import { RedisConnection } from "./internal/connection.js";
import { type RedisLogger, resolveRedisOptions } from "./redis-options.js";

/** One Redis client that several adapters of a process use (pass `client` as their `redis` option). */
export interface SharedRedis {
  readonly client: Redis;
  /** Closes the client; close the adapters that use it first. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens one ioredis client configured the way Granary's adapters configure their own (fail fast
 * while Redis is down, reconnect forever, auto-pipelining; scripts corked per event-loop turn), for
 * adapters to share: a silo then holds one command connection for its directory, stores and
 * reminders instead of one each, and their commands issued in the same turn go out in one write.
 *
 * @example
 * const shared = openSharedRedis("redis://127.0.0.1:6379");
 * const directory = new RedisDirectory({ redis: shared.client, cluster: "shop" });
 * const events = new RedisEventStore({ redis: shared.client });
 * // ... close the adapters, then:
 * await shared.close();
 */
export function openSharedRedis(url: string, options: { readonly logger?: RedisLogger } = {}): SharedRedis {
  const connection = new RedisConnection(
    resolveRedisOptions(options.logger ? { redis: url, logger: options.logger } : { redis: url }),
  );
  return { client: connection.client, close: () => connection.close() };
}
