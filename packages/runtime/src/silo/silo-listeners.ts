import type { ErrorClass } from "@granary/core";
import type { Logger } from "pino";
import { isAdminFrame, parseAdminFrame } from "../admin/admin-frame.js";
import type { OperatorRequests } from "../admin/operator-requests.js";
import type { ResolvedAdmissionOptions } from "../admission/admission-options.js";
import { type CallFrame, hopsOf, parseCallRequest } from "../calls/call-wire.js";
import { clientCallRefusal } from "../cluster/call-trust.js";
import { isHistoryMessage } from "../history/history-wire.js";
import { REPLY_LATER } from "../messaging/connection-types.js";
import { ConnectionPool } from "../messaging/pool.js";
import { listenTransport, type TransportServer } from "../messaging/server.js";
import { PeerRole } from "../messaging/transport-options.js";
import type { SiloCallGate } from "./silo-call-gate.js";
import type { ClusterParts } from "./silo-cluster.js";
import type { SiloHistory } from "./silo-history.js";
import type { ResolvedStandaloneListen } from "./standalone-listen.js";

/** What a silo's listeners share: who listens, and where calls go. */
export interface ListenerLinks {
  readonly siloId: string;
  readonly logger: Logger;
  readonly errors: readonly ErrorClass[];
  /** Its bounds on incomplete frames are the listeners'. */
  readonly admission: ResolvedAdmissionOptions;
  readonly gate: SiloCallGate;
}

/** What every listener and connection pool of a silo is set up with: its key, identity, logger and frame bounds. */
function transportOptions(
  auth: { readonly clusterKey?: string | undefined; readonly allowUnauthenticated: boolean },
  links: ListenerLinks,
) {
  return {
    ...(auth.clusterKey === undefined ? {} : { clusterKey: auth.clusterKey }),
    allowUnauthenticated: auth.allowUnauthenticated,
    maxBufferedFrameBytes: links.admission.maxBufferedFrameBytes,
    partialFrameTimeoutMs: links.admission.partialFrameTimeoutMs,
    id: links.siloId,
    role: PeerRole.Silo,
    logger: links.logger.child({ component: "transport" }),
    errorClasses: new Map(links.errors.map((cls) => [cls.name, cls])),
  };
}

/** A standalone silo serves clients over TCP: every request is a client's call, straight to the catalog (no router). */
export function listenStandalone(listen: ResolvedStandaloneListen, links: ListenerLinks): Promise<TransportServer> {
  return listenTransport({
    ...transportOptions(listen, links),
    host: listen.host,
    port: listen.port,
    tls: listen.tls?.server,
    onRequest: (payload, from, reply) => {
      links.gate.accept(parseCallRequest(payload), 0, true, reply, from.requestsBeingHandled, true);
      return REPLY_LATER;
    },
  });
}

/**
 * A clustered silo's listener for clients and other silos (history and operator requests, then
 * calls), and its pool of connections to the other silos; both go into `cluster`.
 */
export async function listenCluster(
  cluster: ClusterParts,
  links: ListenerLinks & { readonly history: SiloHistory; readonly admin: OperatorRequests },
): Promise<void> {
  const { options } = cluster;
  const transport = transportOptions(options, links);
  cluster.server = await listenTransport({
    ...transport,
    host: options.host,
    port: options.port,
    tls: options.tls?.server,
    onRequest: (payload, from, reply) => {
      if (isHistoryMessage(payload)) return links.history.answer(payload);
      if (isAdminFrame(payload)) {
        const { op, args } = parseAdminFrame(payload);
        return links.admin.handle(op, args);
      }
      const request = parseCallRequest(payload);
      const hops = hopsOf(payload as CallFrame);
      const fromSilo = from.peer.role === PeerRole.Silo;
      const untrusted = fromSilo ? undefined : clientCallRefusal(request);
      if (untrusted) throw untrusted;
      // Calls from clients enter here at hop 0; calls forwarded by silos carry their hop count.
      links.gate.accept(
        request,
        fromSilo ? hops : 0,
        !fromSilo || hops === 0,
        reply,
        from.requestsBeingHandled,
        !fromSilo,
      );
      return REPLY_LATER;
    },
  });
  cluster.pool = new ConnectionPool({ ...transport, tls: options.tls?.client });
}
