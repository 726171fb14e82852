import { formatAddress, ShuttingDownError } from "@granary/core";
import type { InspectorOptions } from "@granary/inspector";
import type { SiloAdmin } from "../admin/silo-admin.js";
import { startSiloInspector } from "../admin/silo-inspector.js";
import type { ClusterParts } from "./silo-cluster.js";

/** The silo as its inspector sees it, read at each request (its id changes when it rejoins). */
export interface InspectedSilo {
  readonly admin: SiloAdmin;
  readonly siloId: string;
  readonly address: { readonly host: string; readonly port: number } | undefined;
}

/**
 * Starts the browser inspector of a silo: operator requests go to the silo itself directly and, in
 * a cluster, to the live members over the silo's connection pool.
 */
export function startInspectorOf(
  silo: InspectedSilo,
  cluster: ClusterParts | undefined,
  options: InspectorOptions,
): Promise<{ readonly url: string; close(): Promise<void> }> {
  return startSiloInspector(
    {
      admin: silo.admin,
      selfAddress: () => (silo.address ? formatAddress(silo.address) : undefined),
      members: cluster ? async () => (await cluster.backends.membership.liveMembers()).map(formatAddress) : undefined,
      remote: cluster
        ? (address, payload, timeoutMs) => {
            const pool = cluster.pool;
            if (!pool) return Promise.reject(new ShuttingDownError(`silo ${silo.siloId}`));
            return pool.request(address, payload, { timeoutMs });
          }
        : undefined,
    },
    options,
    silo.siloId,
  );
}
