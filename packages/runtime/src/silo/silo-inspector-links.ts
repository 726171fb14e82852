import { formatAddress, ShuttingDownError } from "@granary/core";
import type { InspectorOptions } from "@granary/inspector";
import type { SiloAdmin } from "../admin/silo-admin.js";
import { startSiloInspector } from "../admin/silo-inspector.js";
import type { ClusterParts } from "./silo-cluster.js";

/** What a silo's inspector reaches through. */
export interface InspectorLinks {
  readonly admin: SiloAdmin;
  /** The silo's current identity (a new one after a rejoin). */
  readonly siloId: () => string;
  /** This silo's own address ("host:port"), or undefined when it does not listen. */
  readonly selfAddress: () => string | undefined;
  readonly cluster: ClusterParts | undefined;
}

/**
 * Starts the browser inspector of a silo: operator requests go to the silo itself directly and, in
 * a cluster, to the live members over the silo's connection pool.
 */
export function startInspectorOf(
  links: InspectorLinks,
  options: InspectorOptions,
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const { cluster } = links;
  return startSiloInspector(
    {
      admin: links.admin,
      selfAddress: links.selfAddress,
      members: cluster ? async () => (await cluster.backends.membership.liveMembers()).map(formatAddress) : undefined,
      remote: cluster
        ? (address, payload, timeoutMs) => {
            const pool = cluster.pool;
            if (!pool) return Promise.reject(new ShuttingDownError(`silo ${links.siloId()}`));
            return pool.request(address, payload, { timeoutMs });
          }
        : undefined,
    },
    options,
    links.siloId(),
  );
}
