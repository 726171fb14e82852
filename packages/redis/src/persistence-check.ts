import { messageOf } from "@granary/core";
import type { RedisConnection } from "./internal/connection.js";
import type { RedisLogger } from "./redis-options.js";

/** What a store found out about the durability of the Redis it writes to. */
export interface RedisPersistenceStatus {
  /** AOF on: acknowledged writes survive a Redis crash. `undefined` when it could not be told. */
  readonly appendonly: boolean | undefined;
  /** `always` | `everysec` | `no`, when known. */
  readonly appendfsync: string | undefined;
  /** Whether a warning was logged. */
  readonly warned: boolean;
}

/**
 * Checks that Redis persists what the event store acknowledges, and warns through `logger` when it
 * does not. Reads `CONFIG GET` and falls back to `INFO persistence` where CONFIG is disabled
 * (managed Redis services often rename it). Never throws: a failed check is itself a warning.
 */
export async function checkRedisPersistence(
  connection: RedisConnection,
  logger: RedisLogger,
): Promise<RedisPersistenceStatus> {
  const { appendonly, appendfsync, failure } = await readRedisPersistence(connection);
  return warnAboutPersistence(connection, logger, appendonly, appendfsync, failure);
}

/** Reads AOF settings (CONFIG GET, then INFO persistence); never throws, never logs. */
export async function readRedisPersistence(
  connection: RedisConnection,
): Promise<{ appendonly: boolean | undefined; appendfsync: string | undefined; failure: string | undefined }> {
  let appendonly: boolean | undefined;
  let appendfsync: string | undefined;
  let failure: string | undefined;
  try {
    const reply = (await connection.run((c) => c.config("GET", "appendonly", "appendfsync"))) as string[];
    const config = new Map<string, string>();
    for (let i = 0; i + 1 < reply.length; i += 2) config.set(reply[i] as string, reply[i + 1] as string);
    appendonly = config.has("appendonly") ? config.get("appendonly") === "yes" : undefined;
    appendfsync = config.get("appendfsync");
  } catch (error) {
    failure = messageOf(error);
  }
  if (appendonly === undefined) {
    try {
      const info = await connection.run((c) => c.info("persistence"));
      const match = /^aof_enabled:(\d)/m.exec(info);
      if (match) appendonly = match[1] === "1";
    } catch (error) {
      failure = messageOf(error);
    }
  }
  return { appendonly, appendfsync, failure };
}

function warnAboutPersistence(
  connection: RedisConnection,
  logger: RedisLogger,
  appendonly: boolean | undefined,
  appendfsync: string | undefined,
  failure: string | undefined,
): RedisPersistenceStatus {
  const redis = connection.url;
  if (appendonly === false) {
    logger.warn(
      { redis, appendonly: "no" },
      `Redis at ${redis} has append-only persistence (AOF) turned off: events the store acknowledges can be lost if Redis crashes or restarts. Turn it on with \`redis-cli CONFIG SET appendonly yes\` and \`appendonly yes\` in redis.conf (with \`appendfsync everysec\`, or \`always\` to lose nothing on power loss)`,
    );
    return { appendonly, appendfsync, warned: true };
  }
  if (appendonly === true && appendfsync === "no") {
    logger.warn(
      { redis, appendfsync },
      `Redis at ${redis} writes its AOF with \`appendfsync no\`: acknowledged events can be lost on power loss or an OS crash. Use \`appendfsync everysec\` or \`always\``,
    );
    return { appendonly, appendfsync, warned: true };
  }
  if (appendonly === undefined) {
    logger.warn(
      { redis, err: failure },
      `could not tell whether Redis at ${redis} persists its data (CONFIG GET and INFO persistence failed: ${failure ?? "no answer"}); make sure AOF is on, or acknowledged events can be lost on a Redis crash`,
    );
    return { appendonly, appendfsync, warned: true };
  }
  return { appendonly, appendfsync, warned: false };
}
