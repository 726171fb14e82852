import type { Directory, Membership } from "@granary/core";
import { checkRedisUrl, InvalidConfigurationError } from "@granary/core";
import type { ConnectAddressOptions, ListenAddressOptions } from "../messaging/transport-options.js";
import { DEFAULT_CLUSTER_NAME } from "../options/defaults.js";
import { positiveInt } from "../options/option-parsing.js";
import { type PlacementOption, type PlacementStrategy, resolvePlacement } from "../placement/placement.js";

/** Cluster mode: given `redis` (or injected `membership` + `directory`), the silo joins a cluster. */
export interface ClusterOptions {
  /** Redis URL shared by the cluster's silos. @default none: standalone (env GRANARY_REDIS_URL) */
  readonly redis?: string;
  /** Injected membership (tests, other backends); takes precedence over `redis`. */
  readonly membership?: Membership;
  /** Cluster name: silos with the same Redis and name form one cluster. @default "default" (env GRANARY_CLUSTER) */
  readonly clusterName?: string;
  /** Interface the silo listens on. @default "127.0.0.1" (env GRANARY_HOST) */
  readonly host?: string;
  /** Port the silo listens on; 0 picks a free one. @default 11111 (env GRANARY_PORT) */
  readonly port?: number;
  /** Host other silos and clients dial; needed when `host` is 0.0.0.0. @default `host` (env GRANARY_ADVERTISED_HOST) */
  readonly advertisedHost?: string;
  /**
   * Port other silos and clients dial, when it is not the one listened on: a container's port
   * mapping, a proxy in front of the silo (TestCluster's fault-injecting relays).
   * @default the port listened on (env GRANARY_ADVERTISED_PORT)
   */
  readonly advertisedPort?: number;
  /**
   * Shared secret of the cluster (at least 16 bytes; `openssl rand -hex 32`). Required in cluster
   * mode unless `allowUnauthenticated`. (env GRANARY_CLUSTER_KEY)
   */
  readonly clusterKey?: string;
  /** Accept unauthenticated peers (development only). @default false */
  readonly allowUnauthenticated?: boolean;
  /** TLS for the silo's listener and its connections to other silos. */
  readonly tls?: { readonly server: ListenAddressOptions["tls"]; readonly client: ConnectAddressOptions["tls"] };
  /**
   * Membership lease: a silo that cannot renew within it stops serving, and after it others take
   * its actors. @default 10_000 (env GRANARY_LEASE_MS)
   */
  readonly leaseMs?: number;
  /** Where new activations go. @default "random" (env GRANARY_PLACEMENT) */
  readonly placement?: PlacementOption;
}

export const DEFAULT_PORT = 11111;
export const DEFAULT_LEASE_MS = 10_000;
export { DEFAULT_CLUSTER_NAME };

export interface ResolvedClusterOptions {
  readonly redis: string | undefined;
  readonly membership: Membership | undefined;
  readonly directory: Directory | undefined;
  readonly clusterName: string;
  readonly host: string;
  readonly port: number;
  readonly advertisedHost: string;
  /** Undefined: the port listened on. */
  readonly advertisedPort: number | undefined;
  readonly clusterKey: string | undefined;
  readonly allowUnauthenticated: boolean;
  readonly tls: ClusterOptions["tls"];
  readonly leaseMs: number;
  readonly placement: PlacementStrategy;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Undefined when the silo runs standalone (no redis and no injected membership). */
export function resolveClusterOptions(
  options: ClusterOptions & { readonly directory?: Directory },
  env: Env,
): ResolvedClusterOptions | undefined {
  const redis = options.redis ?? (env.GRANARY_REDIS_URL || undefined);
  // Standalone: `port` and `clusterKey`, if given, make it accept clients (silo/standalone-listen.ts).
  if (redis === undefined && options.membership === undefined) return undefined;
  if (redis !== undefined) checkRedisUrl("redis", redis);
  if (options.membership && !options.directory) {
    throw new InvalidConfigurationError("membership", "an injected membership needs an injected `directory` too");
  }
  const host = options.host ?? env.GRANARY_HOST ?? "127.0.0.1";
  const portText = options.port === undefined ? env.GRANARY_PORT : String(options.port);
  const port = portText === undefined || portText === "" ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidConfigurationError(
      "port",
      `must be an integer from 0 to 65535 (0 = any free port), got ${portText}`,
    );
  }
  const advertisedHost = options.advertisedHost ?? env.GRANARY_ADVERTISED_HOST ?? host;
  if (advertisedHost === "0.0.0.0" || advertisedHost === "::") {
    throw new InvalidConfigurationError(
      "advertisedHost",
      `the silo listens on ${host}; set advertisedHost (GRANARY_ADVERTISED_HOST) to the address other silos and clients should dial`,
    );
  }
  const advertisedPortText =
    options.advertisedPort === undefined ? env.GRANARY_ADVERTISED_PORT || undefined : String(options.advertisedPort);
  const advertisedPort = advertisedPortText === undefined ? undefined : Number(advertisedPortText);
  if (
    advertisedPort !== undefined &&
    (!Number.isInteger(advertisedPort) || advertisedPort < 1 || advertisedPort > 65_535)
  ) {
    throw new InvalidConfigurationError(
      "advertisedPort",
      `must be an integer from 1 to 65535 (GRANARY_ADVERTISED_PORT), got ${advertisedPortText}`,
    );
  }
  const { clusterKey, allowUnauthenticated } = resolveListenerKey(
    options,
    env,
    "cluster mode needs a shared key so strangers cannot join or call: set GRANARY_CLUSTER_KEY (e.g. `openssl rand -hex 32`), or allowUnauthenticated: true for development",
  );
  return {
    redis,
    membership: options.membership,
    directory: options.directory,
    clusterName: options.clusterName ?? env.GRANARY_CLUSTER ?? DEFAULT_CLUSTER_NAME,
    host,
    port,
    advertisedHost,
    advertisedPort,
    clusterKey,
    allowUnauthenticated,
    tls: options.tls,
    leaseMs: resolveLeaseMs(options.leaseMs, env.GRANARY_LEASE_MS),
    placement: resolvePlacement(options.placement ?? (env.GRANARY_PLACEMENT as PlacementOption | undefined)),
  };
}

/**
 * The key a silo's listener authenticates peers with: `clusterKey`, else GRANARY_CLUSTER_KEY; no key
 * only with `allowUnauthenticated`.
 * @param refusal why this listener needs a key and how to give one, for the error when it has none
 * @throws InvalidConfigurationError naming clusterKey
 */
export function resolveListenerKey(
  options: Pick<ClusterOptions, "clusterKey" | "allowUnauthenticated">,
  env: Env,
  refusal: string,
): { readonly clusterKey: string | undefined; readonly allowUnauthenticated: boolean } {
  const clusterKey = options.clusterKey ?? (env.GRANARY_CLUSTER_KEY || undefined);
  const allowUnauthenticated = options.allowUnauthenticated ?? false;
  if (clusterKey === undefined && !allowUnauthenticated) throw new InvalidConfigurationError("clusterKey", refusal);
  return { clusterKey, allowUnauthenticated };
}

/**
 * Below this, a renewal has almost no time: the silo renews every leaseMs / 4 and stops serving
 * max(200 ms, leaseMs / 5) before the lease ends, leaving 0.55 × leaseMs − 200 ms for a round trip
 * (at 1 000 ms: 350 ms). Shorter leases fence and rejoin in a loop.
 */
export const MIN_LEASE_MS = 1_000;

function resolveLeaseMs(value: number | undefined, envValue: string | undefined): number {
  const leaseMs = positiveInt("leaseMs", value, envValue, DEFAULT_LEASE_MS);
  if (leaseMs < MIN_LEASE_MS) {
    throw new InvalidConfigurationError(
      "leaseMs",
      `is ${leaseMs} ms, below ${MIN_LEASE_MS} ms: the silo renews its lease every leaseMs / 4 (heartbeat) and stops serving max(200 ms, leaseMs / 5) before it ends, so a renewal would have no time to arrive and the silo would fence and rejoin forever; use at least ${MIN_LEASE_MS} (default ${DEFAULT_LEASE_MS}; GRANARY_LEASE_MS)`,
    );
  }
  return leaseMs;
}
