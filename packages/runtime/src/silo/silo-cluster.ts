import { type Clock, formatAddress } from "@granary/core";
import type { Logger } from "pino";
import type { ActivationSlots } from "../admission/activation-slots.js";
import type { Catalog } from "../catalog/catalog.js";
import { CallRouter } from "../cluster/call-router.js";
import type { ResolvedClusterOptions } from "../cluster/cluster-options.js";
import { type ClusterBackends, openRedisBackends } from "../cluster/redis-backends.js";
import type { RoutingCounters } from "../cluster/routing-counters.js";
import { DirectoryCache } from "../directory/directory-cache.js";
import { MembershipAgent } from "../membership/membership-agent.js";
import type { ConnectionPool } from "../messaging/pool.js";
import type { TransportServer } from "../messaging/server.js";

/** What a clustered silo holds of the cluster: its back ends, its listener and pool, and the current incarnation. */
export interface ClusterParts {
  readonly options: ResolvedClusterOptions;
  readonly backends: ClusterBackends;
  readonly ownsBackends: boolean;
  server?: TransportServer;
  pool?: ConnectionPool;
  /** The membership agent and router of the current incarnation (replaced when the silo rejoins). */
  agent?: MembershipAgent;
  router?: CallRouter;
}

/** Membership and directory as injected, or opened on the cluster's Redis (with the event store unless one was given). */
export async function openClusterParts(
  options: ResolvedClusterOptions,
  logger: Logger,
  withStores: boolean,
): Promise<ClusterParts> {
  const injected = options.membership && options.directory;
  const backends: ClusterBackends = injected
    ? { membership: options.membership, directory: options.directory, close: async () => {} }
    : await openRedisBackends(options.redis as string, options.clusterName, logger, withStores);
  return { options, backends, ownsBackends: !injected };
}

/** What one incarnation needs from its silo, read when it starts. */
export interface IncarnationContext {
  readonly siloId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly routing: RoutingCounters;
  readonly catalog: Catalog;
  readonly lookupSlots: ActivationSlots;
  readonly stopping: () => boolean;
  /** The lease lapsed: the silo must drop its activations and rejoin under a new identity. */
  readonly onFenced: (reason: string) => void;
}

/**
 * Joins membership under the silo's current identity and routes with a fresh directory cache. A
 * silo that fenced itself starts a new incarnation under a new identity, so nothing it owned under
 * the old one can be mistaken for something it owns now.
 */
export async function startIncarnation(cluster: ClusterParts, context: IncarnationContext): Promise<void> {
  const { options, backends } = cluster;
  const pool = cluster.pool as ConnectionPool;
  const server = cluster.server as TransportServer;
  const port = options.advertisedPort ?? server.address.port;
  const cache = new DirectoryCache();
  const agent = new MembershipAgent({
    membership: backends.membership,
    directory: backends.directory,
    self: { siloId: context.siloId, host: options.advertisedHost, port, startedAt: context.clock.now() },
    leaseMs: options.leaseMs,
    clock: context.clock,
    logger: context.logger.child({ component: "membership" }),
    onFenced: context.onFenced,
    onSiloGone: (member, how) => {
      cache.invalidateSilo(member.siloId);
      // A silo that left answers what it accepted while closing; only a dead one leaves calls hanging.
      if (how === "died") pool.disconnect({ host: member.host, port: member.port }, "its membership lease expired");
    },
  });
  cluster.agent = agent;
  cluster.router = new CallRouter({
    siloId: context.siloId,
    selfAddress: formatAddress({ host: options.advertisedHost, port }),
    counters: context.routing,
    catalog: context.catalog,
    directory: backends.directory,
    cache,
    agent,
    pool,
    placement: options.placement,
    logger: context.logger,
    clock: context.clock,
    stopping: context.stopping,
    lookupSlots: context.lookupSlots,
  });
  await agent.start();
}
