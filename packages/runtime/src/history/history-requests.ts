import type { PointInTime } from "@granary/core";
import type { CallInvoker } from "../calls/actor-proxy.js";
import type { CallRequest } from "../calls/call-context.js";
import { resolvePointInTime } from "./history-options.js";
import type { HistoryService } from "./history-service.js";
import type { CorrelatedQuery, HistoryQuery } from "./history-types.js";
import { HistoryOp, type HistoryRequest } from "./history-wire.js";

/** Answers a client's history request on the gateway silo. */
export function answerHistoryRequest(service: HistoryService, request: HistoryRequest): Promise<unknown> {
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
      return service.correlated(String(input.correlationId), input.query as CorrelatedQuery | undefined);
  }
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
