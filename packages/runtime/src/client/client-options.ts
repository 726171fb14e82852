import {
  type Clock,
  checkRedisUrl,
  type ErrorClass,
  InvalidConfigurationError,
  type Membership,
  systemClock,
  tryParseAddress,
} from "@granary/core";
import type { Logger } from "pino";
import type { ConnectAddressOptions } from "../messaging/transport-options.js";
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CLUSTER_NAME } from "../options/defaults.js";
import { nonNegativeInt, positiveInt } from "../options/option-parsing.js";

/** How often the client re-reads membership for the list of gateways. */
export const DEFAULT_GATEWAY_REFRESH_MS = 2_000;
/** Actors whose owner silo a client remembers: ~100 bytes each, so ~10 MB when full. */
export const DEFAULT_OWNER_CACHE_SIZE = 100_000;

/**
 * Options of {@link Client.connect}: where the gateways are (`redis` discovers them from cluster
 * membership; `gateways` lists them), the cluster key, and call defaults.
 */
export interface ClientOptions {
  /** Redis of the cluster, to discover gateway silos from membership. (env GRANARY_REDIS_URL) */
  readonly redis?: string;
  /** Injected membership to discover gateways from (tests, other backends). */
  readonly membership?: Membership;
  /** Fixed gateway list, "host:port" each, used when no `redis` is given. */
  readonly gateways?: readonly string[];
  /** Cluster name in Redis. @default "default" (env GRANARY_CLUSTER) */
  readonly clusterName?: string;
  /** The cluster's shared key. (env GRANARY_CLUSTER_KEY) */
  readonly clusterKey?: string;
  /** Connect without a key (development clusters started with allowUnauthenticated). @default false */
  readonly allowUnauthenticated?: boolean;
  readonly tls?: ConnectAddressOptions["tls"];
  /** Default per-call timeout. @default 30_000 (env GRANARY_CALL_TIMEOUT_MS) */
  readonly callTimeoutMs?: number;
  /** How often the gateway list is refreshed from membership. @default 2_000 */
  readonly refreshIntervalMs?: number;
  /**
   * Actors whose owner silo the client remembers (least recently used out first), so their calls
   * go straight to it instead of through a gateway that forwards them. 0 turns it off: every call
   * goes to the next gateway in turn. @default 100_000
   */
  readonly ownerCacheSize?: number;
  /** Domain error classes, revived with their prototype so `instanceof` works. */
  readonly errors?: readonly ErrorClass[];
  /** @default a silent logger */
  readonly logger?: Logger;
  /**
   * Deadlines, retry back-off and the gateway refresh run on it; a test cluster on a ManualClock
   * shares its clock with its clients. The transport's own timeouts stay on real time.
   * @default systemClock
   */
  readonly clock?: Clock;
}

export interface ResolvedClientOptions {
  readonly redis: string | undefined;
  readonly membership: Membership | undefined;
  readonly gateways: readonly string[];
  readonly clusterName: string;
  readonly clusterKey: string | undefined;
  readonly allowUnauthenticated: boolean;
  readonly tls: ConnectAddressOptions["tls"];
  readonly callTimeoutMs: number;
  readonly refreshIntervalMs: number;
  readonly ownerCacheSize: number;
  readonly errors: readonly ErrorClass[];
  readonly logger: Logger | undefined;
  readonly clock: Clock;
}

export function resolveClientOptions(
  options: ClientOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedClientOptions {
  const redis = options.redis ?? (env.GRANARY_REDIS_URL || undefined);
  const gateways = options.gateways ?? [];
  if (!redis && !options.membership && gateways.length === 0) {
    throw new InvalidConfigurationError(
      "gateways",
      'give `redis` (or GRANARY_REDIS_URL) to discover silos, or `gateways: ["host:port", ...]`',
    );
  }
  for (const gateway of gateways) {
    if (tryParseAddress(gateway) === undefined) {
      throw new InvalidConfigurationError("gateways", `"${gateway}" is not "host:port" (IPv6 as "[::1]:11111")`);
    }
  }
  if (redis) checkRedisUrl("redis", redis);
  const clusterKey = options.clusterKey ?? (env.GRANARY_CLUSTER_KEY || undefined);
  const allowUnauthenticated = options.allowUnauthenticated ?? false;
  if (!clusterKey && !allowUnauthenticated) {
    throw new InvalidConfigurationError(
      "clusterKey",
      "the cluster's shared key is needed to connect: set GRANARY_CLUSTER_KEY or `clusterKey` (or allowUnauthenticated for a development cluster)",
    );
  }
  return {
    redis,
    membership: options.membership,
    gateways,
    clusterName: options.clusterName ?? env.GRANARY_CLUSTER ?? DEFAULT_CLUSTER_NAME,
    clusterKey,
    allowUnauthenticated,
    tls: options.tls,
    callTimeoutMs: positiveInt(
      "callTimeoutMs",
      options.callTimeoutMs,
      env.GRANARY_CALL_TIMEOUT_MS,
      DEFAULT_CALL_TIMEOUT_MS,
    ),
    refreshIntervalMs: positiveInt(
      "refreshIntervalMs",
      options.refreshIntervalMs,
      undefined,
      DEFAULT_GATEWAY_REFRESH_MS,
    ),
    ownerCacheSize: nonNegativeInt("ownerCacheSize", options.ownerCacheSize, DEFAULT_OWNER_CACHE_SIZE),
    errors: options.errors ?? [],
    logger: options.logger,
    clock: options.clock ?? systemClock,
  };
}
