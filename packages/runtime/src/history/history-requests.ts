import type { PointInTime } from "@granary/core";
import type { CallInvoker } from "../calls/actor-proxy.js";
import type { CallRequest } from "../calls/call-context.js";
import { resolvePointInTime } from "./history-options.js";
import type { HistoryService } from "./history-service.js";
import type { HistoryQuery } from "./history-types.js";
import { HistoryOp, type HistoryRequest } from "./history-wire.js";

/** Operations a silo adds to its history service for requests from clients (purge, correlation). */
export interface HistoryExtensions {
  correlated?(input: Record<string, unknown>): Promise<unknown>;
  purge?(actorType: string, actorId: string, input: Record<string, unknown>): Promise<unknown>;
}

/** Answers a client's history request on the gateway silo. */
export function answerHistoryRequest(
  service: HistoryService,
  request: HistoryRequest,
  extensions: HistoryExtensions = {},
): Promise<unknown> {
  const { op, actorType, actorId, input } = request;
  switch (op) {
    case HistoryOp.History:
      return service.history(actorType, actorId, input.query as HistoryQuery | undefined);
    case HistoryOp.StateAt:
      return service.stateAt(actorType, actorId, input.point as PointInTime);
    case HistoryOp.AsOf:
      return service.pastCall(
        actorType,
        actorId,
        input.asOf as PointInTime,
        String(input.method),
        Array.isArray(input.args) ? input.args : [],
      );
    case HistoryOp.Correlated:
      if (!extensions.correlated) break;
      return extensions.correlated(input);
    case HistoryOp.Purge:
      if (!extensions.purge) break;
      return extensions.purge(actorType, actorId, input);
  }
  return Promise.reject(new Error(`history operation ${op} is not served by this silo`));
}

/** What a silo's `get(type, id, { asOf })` reference calls: the past state, on this silo. */
export function localPastInvoker(service: HistoryService, asOf: PointInTime, defaultTimeoutMs: number): CallInvoker {
  resolvePointInTime(asOf, "asOf");
  return {
    defaultTimeoutMs,
    invoke: (request: CallRequest) =>
      service.pastCall(request.actorType, request.actorId, asOf, request.method, request.args),
  };
}
