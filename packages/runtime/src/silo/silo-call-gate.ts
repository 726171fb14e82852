import { type Clock, ShuttingDownError } from "@granary/core";
import type { PendingCall } from "../activation/mailbox.js";
import type { AdmissionControl } from "../admission/admission-control.js";
import type { CallRequest } from "../calls/call-context.js";
import { AnsweredCallRecord, type CallAnswer, type CallRecord, PromiseCallRecord } from "../calls/call-record.js";
import { DeadlineTracker } from "../calls/deadlines.js";
import type { Catalog } from "../catalog/catalog.js";
import type { CallRouter } from "../cluster/call-router.js";
import { RoutingCounters } from "../cluster/routing-counters.js";
import { DATA_SUBJECT_TYPE } from "../crypto/data-subject.js";
import { SYSTEM_TYPE_PREFIX } from "../projections/system-calls.js";
import { startCallSpan, tracingEnabled } from "../telemetry/call-tracing.js";
import type { SiloTelemetry } from "../telemetry/silo-telemetry.js";

/** What the call gate reads of its silo, at each call: a fenced silo rejoins under a new identity and router. */
export interface CallGateLinks {
  readonly clock: Clock;
  readonly catalog: Catalog;
  readonly admission: AdmissionControl;
  readonly telemetry: SiloTelemetry;
  readonly siloId: () => string;
  /** Why the silo fenced itself (lost its lease), while it is fenced: then it refuses every call. */
  readonly fencedReason: () => string | undefined;
  /** stop() was called. */
  readonly stopping: () => boolean;
  /** The current incarnation's router; undefined when calls go straight to the catalog (standalone). */
  readonly router: () => CallRouter | undefined;
  /** A call to the built-in DataSubject address, answered by the silo itself. */
  readonly dataSubjectCall: (request: CallRequest) => Promise<unknown>;
  /** A call to a `$granary.` system type (projection queries, the event bus), answered by the read side. */
  readonly systemCall: (request: CallRequest) => Promise<unknown>;
  /** The reminder service's answer to an operator call, or undefined when the call is not one. */
  readonly reminderAdmin: (request: CallRequest) => Promise<unknown> | undefined;
}

/**
 * The silo's door for calls: refuses what it must (fenced, stopping, overloaded) before anything
 * runs, answers the calls the silo serves itself, and routes the rest, each with its deadline and
 * span, counting what it routed. Admitted calls count as in flight until their record settles.
 */
export class SiloCallGate {
  /** Client calls received and forwarded, calls from other silos (the operator's `routing`). */
  readonly routing = new RoutingCounters();
  readonly #links: CallGateLinks;
  readonly #deadlines: DeadlineTracker;
  #callsTotal = 0;

  constructor(links: CallGateLinks) {
    this.#links = links;
    this.#deadlines = new DeadlineTracker(links.clock);
  }

  /** Calls routed since the silo started. */
  get callsTotal(): number {
    return this.#callsTotal;
  }

  /** A call from this process (references, reminders, purge): the caller awaits the promise. */
  invoke(request: CallRequest): Promise<unknown> {
    const refusal = this.#refusal(request, true, 0, true);
    if (refusal) return Promise.reject(refusal);
    if (request.actorType === DATA_SUBJECT_TYPE) return this.#links.dataSubjectCall(request);
    const traced = tracingEnabled() ? startCallSpan(this.#links.telemetry.tracer, request) : request;
    const record = new PromiseCallRecord(traced, this.#deadlines, traced.span, this.#settled);
    try {
      this.#route(record, 0);
    } catch (error) {
      record.reject(error);
    }
    return record.promise;
  }

  /**
   * Like invoke for a call from another process: answered through `answer`, no promise.
   * @param external not forwarded by another silo's router (a client's call, or a silo's own at hop 0)
   * @param connectionInFlight requests being handled on the connection it came on, itself included
   * @param fromClient a client sent it (else another silo, or a standalone silo's listener)
   */
  accept(
    request: CallRequest,
    hops: number,
    external: boolean,
    answer: CallAnswer,
    connectionInFlight: number,
    fromClient: boolean,
  ): void {
    const refusal = this.#refusal(request, external, connectionInFlight, false);
    if (refusal) {
      answer.reject(refusal);
      return;
    }
    const served = this.#servedBySilo(request);
    if (served) {
      served.then(
        (value) => answer.resolve(value),
        (error: unknown) => answer.reject(error),
      );
      return;
    }
    const traced = tracingEnabled() ? startCallSpan(this.#links.telemetry.tracer, request) : request;
    const record = new AnsweredCallRecord(traced, answer, this.#deadlines, traced.span, this.#settled);
    if (fromClient) {
      record.fromClient = true;
      this.routing.clientCalls++;
    } else if (hops > 0) {
      this.routing.callsFromSilos++;
    }
    this.#route(record, hops);
  }

  /** Calls whose activation lost the directory race (NOT_OWNER) go to the winner, through the router. */
  rerouteNotOwned(calls: PendingCall[]): void {
    for (const call of calls) {
      const router = this.#links.router();
      if (!router) call.reject(new ShuttingDownError(`silo ${this.#links.siloId()}`));
      else router.reroute(call);
    }
  }

  /** Stops expiring deadlines (the silo has stopped). */
  stop(): void {
    this.#deadlines.stop();
  }

  /**
   * Why a call is refused at the door (nothing ran), or undefined when it is admitted: then it
   * counts as in flight until its record settles.
   * @param local the caller holds a reference of this silo: it has no other silo to retry on
   */
  #refusal(request: CallRequest, external: boolean, connectionInFlight: number, local: boolean): Error | undefined {
    const links = this.#links;
    const fenced = links.fencedReason();
    if (fenced) return new ShuttingDownError(`silo ${links.siloId()} (fenced: ${fenced})`);
    // A stopping silo refuses calls from outside (they retry elsewhere) but serves calls of running
    // chains and calls for actors it is still draining.
    if (
      links.stopping() &&
      external &&
      request.context.chain.length === 1 &&
      !links.catalog.find(request.actorType, request.actorId)
    ) {
      // Remote callers retry on another silo; a local caller would only meet this silo again.
      return new ShuttingDownError(`silo ${links.siloId()}`, { retryable: !local });
    }
    return links.admission.admit(request, connectionInFlight);
  }

  /** The answer to a call the silo serves itself, never routed to an activation; undefined for the others. */
  #servedBySilo(request: CallRequest): Promise<unknown> | undefined {
    const links = this.#links;
    if (request.actorType === DATA_SUBJECT_TYPE) return links.dataSubjectCall(request);
    if (request.actorType.startsWith(SYSTEM_TYPE_PREFIX)) return links.systemCall(request);
    return links.reminderAdmin(request);
  }

  #route(record: CallRecord, hops: number): void {
    this.#callsTotal++;
    const router = this.#links.router();
    if (router) router.routeCall(record, hops, hops > 0);
    else this.#links.catalog.dispatchCall(record);
  }

  readonly #settled = (record: CallRecord): void => {
    const { admission, telemetry, clock } = this.#links;
    admission.done();
    if (!telemetry.metricsOn) return;
    telemetry.callLatency.record(clock.now() - (record.deadline - record.request.timeoutMs), {
      actor_type: record.request.actorType,
    });
  };
}
