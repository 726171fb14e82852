import { InvalidArgumentError } from "@granary/core";
import type { AdmissionControl } from "../admission/admission-control.js";
import type { Catalog } from "../catalog/catalog.js";
import type { RoutingCounters } from "../cluster/routing-counters.js";
import { describeActivation } from "./activation-view.js";
import type { ActivationQuery, ActivationView, SiloInfo, SiloLoad } from "./admin-types.js";
import { OperatorRequests, stringArg } from "./operator-requests.js";

/** What the operator surface needs to know about its silo, read at request time. */
export interface AdminSiloView {
  readonly siloId: string;
  readonly address: string | undefined;
  readonly startedAt: number;
  /** The silo's clock (a ManualClock in tests): uptime and how recently a call was shed. */
  readonly now: () => number;
  readonly callsTotal: number;
  readonly routing: RoutingCounters;
  readonly status: SiloInfo["status"];
  readonly fencedReason: string | undefined;
  readonly catalog: Catalog;
  readonly admission: AdmissionControl;
  /** Bytes of incomplete frames the silo's listener holds (0 without a listener). */
  readonly bufferedFrameBytes: number;
}

/** A call shed this recently still marks the silo overloaded: shedding comes in bursts. */
const RECENT_SHED_MS = 10_000;
/** Share of the in-flight limit from which the silo reports itself overloaded. */
const NEAR_LIMIT = 0.9;

function describeLoad(admission: AdmissionControl, bufferedFrameBytes: number, now: number): SiloLoad {
  const lastShedAt = admission.lastShedAt;
  const overloaded =
    admission.lagging ||
    admission.inFlight >= NEAR_LIMIT * admission.maxCallsInFlight ||
    (lastShedAt !== undefined && now - lastShedAt < RECENT_SHED_MS);
  return {
    overloaded,
    callsInFlight: admission.inFlight,
    maxCallsInFlight: admission.maxCallsInFlight,
    shedTotal: admission.shed,
    lastShedAt: lastShedAt === undefined ? undefined : new Date(lastShedAt).toISOString(),
    eventLoopLagging: admission.lagging,
    activationsLoading: admission.activationSlots.busy,
    activationsWaiting: admission.activationSlots.waiting,
    bufferedFrameBytes,
  };
}

const DEFAULT_ACTIVATION_LIMIT = 100;
const MAX_ACTIVATION_LIMIT = 10_000;

/**
 * The read-mostly operator surface of one silo: its health, its activations, one activation's
 * state. Other subsystems add operations (history, time travel, purge, projections, reminders) with
 * {@link SiloAdmin.register}, so the CLI and the inspector reach all of them the same way.
 */
export class SiloAdmin extends OperatorRequests {
  readonly #view: () => AdminSiloView;

  constructor(view: () => AdminSiloView) {
    super();
    this.#view = view;
    this.register("info", () => this.info());
    this.register("activations", (args) => this.activations(activationQuery(args)));
    this.register("activation", (args) => this.activation(stringArg(args, "type"), stringArg(args, "id")));
  }

  info(): SiloInfo {
    const view = this.#view();
    const byType: Record<string, number> = {};
    let activations = 0;
    for (const activation of view.catalog.activations()) {
      if (activation.state !== "active") continue;
      activations++;
      byType[activation.type] = (byType[activation.type] ?? 0) + 1;
    }
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const now = view.now();
    return {
      siloId: view.siloId,
      address: view.address,
      startedAt: new Date(view.startedAt).toISOString(),
      uptimeMs: Math.max(0, now - view.startedAt),
      activations,
      activationsByType: byType,
      callsTotal: view.callsTotal,
      routing: {
        clientCalls: view.routing.clientCalls,
        clientCallsForwarded: view.routing.clientCallsForwarded,
        callsFromSilos: view.routing.callsFromSilos,
      },
      pid: process.pid,
      cpu: { userMicros: cpu.user, systemMicros: cpu.system },
      actorTypes: view.catalog.registry.types,
      operations: this.names,
      status: view.status,
      fencedReason: view.fencedReason,
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      load: describeLoad(view.admission, view.bufferedFrameBytes, now),
    };
  }

  activations(query: ActivationQuery = {}): ActivationView[] {
    const view = this.#view();
    const limit = query.limit ?? DEFAULT_ACTIVATION_LIMIT;
    const found: ActivationView[] = [];
    for (const activation of view.catalog.activations()) {
      if (found.length >= limit) break;
      if (query.type !== undefined && activation.type !== query.type) continue;
      if (query.idContains !== undefined && !activation.actorId.includes(query.idContains)) continue;
      found.push(describeActivation(activation, view.siloId, false));
    }
    return found.sort((a, b) => (a.type === b.type ? a.id.localeCompare(b.id) : a.type.localeCompare(b.type)));
  }

  /** The activation of `type/id` on this silo with its state, or null when it is not active here. */
  activation(type: string, id: string): ActivationView | null {
    const view = this.#view();
    const activation = view.catalog.find(type, id);
    return activation ? describeActivation(activation, view.siloId, true) : null;
  }
}

function activationQuery(args: Record<string, unknown>): ActivationQuery {
  const limit = args.limit;
  if (
    limit !== undefined &&
    (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_ACTIVATION_LIMIT)
  ) {
    throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_ACTIVATION_LIMIT}, got ${String(limit)}`);
  }
  return {
    ...(args.type === undefined ? {} : { type: stringArg(args, "type") }),
    ...(args.idContains === undefined ? {} : { idContains: stringArg(args, "idContains") }),
    ...(limit === undefined ? {} : { limit: limit as number }),
  };
}
