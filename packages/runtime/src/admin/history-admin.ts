import type { PointInTime, PurgeRequest } from "@granary/core";
import type { HistoryService } from "../history/history-service.js";
import type { OperatorHistoryPage } from "./history-operation.js";
import { intArg, type OperatorRequests, stringArg } from "./operator-requests.js";

/** What the history operator requests need from the silo. */
export interface HistoryAdminLinks {
  readonly history: HistoryService;
  readonly purge: (actorType: string, actorId: string, request: PurgeRequest) => Promise<unknown>;
}

/**
 * Registers the history and forgetting operator requests, answered by the silo's HistoryService
 * (upcast events, state rebuilt in a fresh instance) and its routed purge:
 * `history`, `stateAt` (latest without a version or time), `correlated`, `purge`.
 */
export function registerHistoryAdmin(requests: OperatorRequests, links: HistoryAdminLinks): void {
  requests.register("history", async (args): Promise<OperatorHistoryPage> => {
    const fromVersion = intArg(args, "fromVersion", 1, Number.MAX_SAFE_INTEGER);
    const toVersion = intArg(args, "toVersion", 1, Number.MAX_SAFE_INTEGER);
    const limit = intArg(args, "limit", 1, 10_000);
    const page = await links.history.history(stringArg(args, "type"), stringArg(args, "id"), {
      ...(fromVersion === undefined ? {} : { fromVersion }),
      ...(toVersion === undefined ? {} : { toVersion }),
      ...(typeof args.from === "string" ? { from: args.from } : {}),
      ...(typeof args.to === "string" ? { to: args.to } : {}),
      ...(limit === undefined ? {} : { limit }),
    });
    return { events: page.events as OperatorHistoryPage["events"], next: page.next?.fromVersion ?? null };
  });
  requests.register("stateAt", (args) => {
    const version = intArg(args, "version", 0, Number.MAX_SAFE_INTEGER);
    const point: PointInTime =
      version !== undefined
        ? { version }
        : { time: typeof args.time === "string" ? args.time : new Date().toISOString() };
    return links.history.stateAt(stringArg(args, "type"), stringArg(args, "id"), point);
  });
  requests.register("correlated", (args) => {
    const afterPosition = intArg(args, "afterPosition", 0, Number.MAX_SAFE_INTEGER);
    const limit = intArg(args, "limit", 1, 10_000);
    return links.history.correlated(stringArg(args, "correlationId"), {
      ...(afterPosition === undefined ? {} : { afterPosition }),
      ...(limit === undefined ? {} : { limit }),
    });
  });
  requests.register("purge", (args) =>
    links.purge(stringArg(args, "type"), stringArg(args, "id"), {
      reason: stringArg(args, "reason"),
      requestedBy: stringArg(args, "requestedBy"),
    }),
  );
}
