import { InvalidConfigurationError } from "../errors.js";
import { describeValue } from "./describe-value.js";

/**
 * Whether a string names a Redis server the way ioredis takes it: a `redis://` or `rediss://` URL,
 * or the absolute path of a Unix socket. The silo, the client and the Redis adapters accept the
 * same forms, so a URL that works for one works for all.
 */
export function isRedisUrl(value: string): boolean {
  if (value.startsWith("/")) return true; // a Unix socket path
  try {
    const { protocol } = new URL(value);
    return protocol === "redis:" || protocol === "rediss:";
  } catch {
    return false;
  }
}

/** `value` when it {@link isRedisUrl}; otherwise an InvalidConfigurationError naming `option`. */
export function checkRedisUrl(option: string, value: unknown): string {
  if (typeof value === "string" && isRedisUrl(value)) return value;
  throw new InvalidConfigurationError(
    option,
    `${describeValue(value)} is not a redis:// or rediss:// URL or a Unix socket path; use e.g. "redis://127.0.0.1:6379" or "/run/redis/redis.sock"`,
  );
}
