import { checkRedisUrl, checkUpcastersOption, InvalidConfigurationError, type Upcasters } from "@granary/core";
import type { Redis } from "ioredis";

/** pino-compatible: `logger.warn({ redis: url }, "message")`. */
export interface RedisLogger {
  warn(obj: object, msg: string): void;
}

/** Options every Granary Redis component takes. */
export interface RedisOptions {
  /**
   * A `redis://` / `rediss://` URL, or an ioredis instance you own. Granary never closes an instance
   * you pass, and does not change its options: create it with `{ enableOfflineQueue: false,
   * maxRetriesPerRequest: 0 }` to get the same fail-fast behaviour as with a URL.
   */
  readonly redis: string | Redis;
  /**
   * First segment of every key (`<keyPrefix>:{<namespace|cluster>}:...`). Lets several
   * applications share one Redis database. @default "granary"
   */
  readonly keyPrefix?: string;
  /**
   * Where warnings go (Redis persistence off, connection lost). @default Node's
   * `process.emitWarning`, so a durability warning is never silently dropped
   */
  readonly logger?: RedisLogger;
  /**
   * How long the first command waits for the initial connection. After the connection was up once,
   * commands fail at once with ConnectionError while it is down (no queueing), and the client
   * reconnects by itself. @default 5_000
   */
  readonly connectTimeoutMs?: number;
  /**
   * A command that gets no reply within this time fails with ConnectionError (a hung or overloaded
   * server). Applies to connections Granary opens from a URL. @default 5_000
   */
  readonly commandTimeoutMs?: number;
}

export interface RedisSnapshotStoreOptions extends RedisOptions {
  /** Tenant namespace: a store sees only its own streams. @default "default" */
  readonly namespace?: string;
}

export interface RedisEventStoreOptions extends RedisSnapshotStoreOptions {
  /** Applied on read (read, readWithErrors, readAll, subscribe); stored events are never rewritten. */
  readonly upcasters?: Upcasters;
}

export interface RedisDirectoryOptions extends RedisOptions {
  /**
   * Cluster name: silos that share it share membership and directory. The directory and the
   * membership of one cluster must use the same `keyPrefix` and `cluster`. @default "default"
   */
  readonly cluster?: string;
}

export interface RedisMembershipOptions extends RedisDirectoryOptions {
  /**
   * How often `watch` re-reads the member list, as a fallback for missed pub/sub messages (and to
   * notice expired leases nobody has removed yet). @default 2_000
   */
  readonly watchPollIntervalMs?: number;
}

/** Any Granary Redis component's options. */
export type AnyRedisOptions = RedisEventStoreOptions & RedisMembershipOptions;

export interface ResolvedRedisOptions {
  readonly redis: string | Redis;
  readonly keyPrefix: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly upcasters: Upcasters | undefined;
  readonly logger: RedisLogger;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly watchPollIntervalMs: number;
}

export const DEFAULT_KEY_PREFIX = "granary";
export const DEFAULT_NAMESPACE = "default";
export const DEFAULT_CLUSTER = "default";
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
export const DEFAULT_WATCH_POLL_INTERVAL_MS = 2_000;

/** Warnings through Node's own channel: visible on stderr, and `--no-warnings` silences them. */
export const emitWarningLogger: RedisLogger = {
  warn(obj, msg) {
    process.emitWarning(`${msg} ${JSON.stringify(obj)}`, { code: "GRANARY_REDIS" });
  },
};

/**
 * Validates options and fills in defaults.
 * @throws InvalidConfigurationError naming the option and what to change.
 */
export function resolveRedisOptions(options: AnyRedisOptions): ResolvedRedisOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidConfigurationError("redis", 'pass an options object, e.g. { redis: "redis://127.0.0.1:6379" }');
  }
  return {
    redis: checkRedis(options.redis),
    keyPrefix: checkName("keyPrefix", options.keyPrefix, DEFAULT_KEY_PREFIX),
    namespace: checkName("namespace", options.namespace, DEFAULT_NAMESPACE),
    cluster: checkName("cluster", options.cluster, DEFAULT_CLUSTER),
    upcasters: checkUpcastersOption(options.upcasters),
    logger: checkLogger(options.logger),
    connectTimeoutMs: checkPositive("connectTimeoutMs", options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    commandTimeoutMs: checkPositive("commandTimeoutMs", options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS),
    watchPollIntervalMs: checkPositive(
      "watchPollIntervalMs",
      options.watchPollIntervalMs,
      DEFAULT_WATCH_POLL_INTERVAL_MS,
    ),
  };
}

function checkRedis(value: unknown): string | Redis {
  if (typeof value === "string") return checkRedisUrl("redis", value);
  const candidate = value as { evalsha?: unknown; duplicate?: unknown } | null | undefined;
  if (typeof candidate?.evalsha === "function" && typeof candidate.duplicate === "function") return value as Redis;
  throw new InvalidConfigurationError(
    "redis",
    `expected a redis:// URL (e.g. "redis://127.0.0.1:6379") or an ioredis instance, got ${describe(value)}`,
  );
}

function checkName(option: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length === 0 || /[{}\s]/.test(value)) {
    throw new InvalidConfigurationError(
      option,
      `expected a non-empty string without braces or whitespace (it becomes part of every key and of the Redis Cluster hash tag), got ${describe(value)}`,
    );
  }
  return value;
}

function checkPositive(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidConfigurationError(option, `expected a positive number of milliseconds, got ${describe(value)}`);
  }
  return value;
}

function checkLogger(value: unknown): RedisLogger {
  if (value === undefined) return emitWarningLogger;
  if (typeof (value as { warn?: unknown } | null)?.warn === "function") return value as RedisLogger;
  throw new InvalidConfigurationError(
    "logger",
    `expected an object with a warn(obj, msg) method (a pino logger works), got ${describe(value)}`,
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return String(value);
}
