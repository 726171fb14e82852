import type { PointInTime, PurgeRequest, Tombstone } from "@granary/core";
import type { ActivationServices } from "../activation/activation-services.js";
import type { ActorTypeRegistry } from "../activation/actor-type-info.js";
import { registerHistoryAdmin } from "../admin/history-admin.js";
import type { OperatorRequests } from "../admin/operator-requests.js";
import type { CallInvoker } from "../calls/actor-proxy.js";
import { type CallRequest, childContext } from "../calls/call-context.js";
import { answerHistoryRequest, localPastInvoker } from "../history/history-requests.js";
import { HistoryService } from "../history/history-service.js";
import type {
  CorrelatedPage,
  CorrelatedQuery,
  HistoryPage,
  HistoryQuery,
  PastState,
} from "../history/history-types.js";
import { parseHistoryMessage } from "../history/history-wire.js";
import { PURGE_METHOD, PurgeCoordinator, type PurgeListener, validatePurgeRequest } from "../history/purge.js";

/** What the history façade needs from its silo. */
export interface SiloHistoryLinks {
  readonly registry: ActorTypeRegistry;
  readonly services: ActivationServices;
  /** Runs a call as the silo's references do: a purge travels as a call to wherever the actor is active. */
  readonly invoke: (request: CallRequest) => Promise<unknown>;
  readonly defaultTimeoutMs: number;
  /** Where the history operator requests (`history`, `stateAt`, `correlated`, `purge`) are registered. */
  readonly admin: OperatorRequests;
}

/**
 * A silo's recorded past, by actor type name: pages of events, one correlation across streams, the
 * state at a past point and references bound to it, and purge with its listeners. Reads come
 * straight from the stores on this silo; a purge is routed like a call.
 */
export class SiloHistory {
  /** Erases streams for the catalog's purge calls, and tells the listeners. */
  readonly purger: PurgeCoordinator;
  readonly #service: HistoryService;
  readonly #invoke: (request: CallRequest) => Promise<unknown>;
  readonly #defaultTimeoutMs: number;

  constructor(links: SiloHistoryLinks) {
    this.#service = new HistoryService(links.registry, links.services);
    this.purger = new PurgeCoordinator(links.services);
    this.#invoke = links.invoke;
    this.#defaultTimeoutMs = links.defaultTimeoutMs;
    registerHistoryAdmin(links.admin, {
      history: this.#service,
      purge: (actorType, actorId, request) => this.purge(actorType, actorId, request),
    });
  }

  history(actorType: string, actorId: string, query: HistoryQuery | undefined): Promise<HistoryPage> {
    return this.#service.history(actorType, actorId, query);
  }

  correlated(correlationId: string, query: CorrelatedQuery | undefined): Promise<CorrelatedPage> {
    return this.#service.correlated(correlationId, query);
  }

  stateAt(actorType: string, actorId: string, point: PointInTime): Promise<PastState<unknown>> {
    return this.#service.stateAt(actorType, actorId, point);
  }

  /** What a reference bound to a past point calls: the past state, rebuilt on this silo. */
  pastInvoker(asOf: PointInTime): CallInvoker {
    return localPastInvoker(this.#service, asOf, this.#defaultTimeoutMs);
  }

  /** Answers a history request frame from a client on the gateway silo. */
  answer(payload: unknown): Promise<unknown> {
    return answerHistoryRequest(this.#service, parseHistoryMessage(payload));
  }

  /** Validates the request here, then routes the purge to the silo where the actor is (or will be) active. */
  purge(actorType: string, actorId: string, request: PurgeRequest): Promise<Tombstone> {
    try {
      validatePurgeRequest(request, `${actorType}/${actorId}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#invoke({
      actorType,
      actorId,
      method: PURGE_METHOD,
      args: [{ reason: request.reason, requestedBy: request.requestedBy }],
      context: childContext(undefined, {}),
      timeoutMs: this.#defaultTimeoutMs,
    }) as Promise<Tombstone>;
  }

  /** Adds a listener for purges executed on this silo; returns the function that removes it. */
  onPurge(listener: PurgeListener): () => void {
    return this.purger.listen(listener);
  }
}
