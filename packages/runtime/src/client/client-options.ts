import { type ErrorClass, InvalidConfigurationError, type Membership } from "@granary/core";
import type { Logger } from "pino";
import type { ConnectAddressOptions } from "../messaging/transport-options.js";
import { positiveInt } from "../silo/option-parsing.js";

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
  /** Domain error classes, revived with their prototype so `instanceof` works. */
  readonly errors?: readonly ErrorClass[];
  /** @default a silent logger */
  readonly logger?: Logger;
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
  readonly errors: readonly ErrorClass[];
  readonly logger: Logger | undefined;
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
    if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(gateway)) {
      throw new InvalidConfigurationError("gateways", `"${gateway}" is not "host:port"`);
    }
  }
  if (redis && !/^rediss?:\/\//.test(redis)) {
    throw new InvalidConfigurationError("redis", `must be a redis:// or rediss:// URL, got "${redis}"`);
  }
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
    clusterName: options.clusterName ?? env.GRANARY_CLUSTER ?? "default",
    clusterKey,
    allowUnauthenticated,
    tls: options.tls,
    callTimeoutMs: positiveInt("callTimeoutMs", options.callTimeoutMs, env.GRANARY_CALL_TIMEOUT_MS, 30_000),
    refreshIntervalMs: positiveInt("refreshIntervalMs", options.refreshIntervalMs, undefined, 2_000),
    errors: options.errors ?? [],
    logger: options.logger,
  };
}
