import {
  ErrorCode,
  type EventEnvelope,
  type EventSourcedActor,
  type EventSourcingControl,
  InvalidArgumentError,
  isGranaryError,
  NotOwnerError,
  type PendingEvent,
  StaleActivationError,
} from "@granary/core";
import { eventSourcing } from "@granary/core/internal";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { type CallContext, type CallRequest, newId } from "../calls/call-context.js";
import { parseTraceparent } from "../telemetry/call-tracing.js";
import type { ActivationServices } from "./activation-services.js";
import type { ActorTypeInfo } from "./actor-type-info.js";
import type { Snapshotter } from "./snapshotter.js";
import { asTurnError, resolveMethod, runInTurn, type TurnExecutor } from "./turn-executor.js";

/**
 * Turns of an event-sourced actor: the method raises events, and when the outermost turn ends its
 * events are appended together with the expected version (and the activation's fencing epoch)
 * before the reply. A throw rolls back to the state before the turn; a version conflict or a
 * fenced write means another activation wrote, so this one is stale.
 */
export class EventSourcedTurnExecutor implements TurnExecutor {
  readonly #control: EventSourcingControl;
  /** Turns running now (more than one only when reentrant calls nest) and the outermost one's method. */
  #depth = 0;
  #method = "";

  constructor(
    readonly info: ActorTypeInfo,
    readonly instance: EventSourcedActor<unknown, { type: string }>,
    readonly stream: string,
    readonly epoch: number,
    readonly services: ActivationServices,
    readonly snapshotter: Snapshotter,
    readonly activation: { onStale(cause: unknown): void; onPurged(cause: unknown): void },
  ) {
    this.#control = instance[eventSourcing];
  }

  execute(request: CallRequest): Promise<unknown> {
    const method = resolveMethod(this.info, this.instance, request.method);
    const args = request.args as unknown[];
    // Read-only calls run outside any turn (they may overlap), so raise() in them fails.
    if (this.info.readOnly.has(request.method)) return runInTurn(request, () => method.apply(this.instance, args));
    const control = this.#control;
    control.beginTurn();
    if (this.#depth++ === 0) this.#method = request.method;
    let running: Promise<unknown>;
    try {
      running = runInTurn(request, () => method.apply(this.instance, args));
    } catch (error) {
      this.#depth--;
      control.rollbackTurn();
      return Promise.reject(asTurnError(error));
    }
    return running.then(
      (result) => {
        this.#depth--;
        return this.#endTurn(result, request);
      },
      (error: unknown) => {
        this.#depth--;
        control.rollbackTurn();
        throw asTurnError(error);
      },
    );
  }

  #endTurn(result: unknown, request: CallRequest): unknown {
    const control = this.#control;
    // A reentrant (nested) turn's events commit with the outermost turn of its chain.
    if (!control.endTurn()) return result;
    const pending = control.pending();
    if (pending.length === 0) {
      control.markCommitted();
      return result;
    }
    return this.#commit(pending, request.context).then(() => {
      control.markCommitted();
      return result;
    });
  }

  /** Commits the current turn's events mid-turn (the actor's `persist()`). */
  async persist(context: CallContext | undefined): Promise<void> {
    if (!context) throw new InvalidArgumentError("persist() can only be called inside a command method");
    const pending = this.#control.pending();
    if (pending.length === 0) return;
    await this.#commit(pending, context);
    this.#control.checkpoint();
  }

  async #commit(pending: readonly PendingEvent[], context: CallContext): Promise<void> {
    const control = this.#control;
    const expectedVersion = control.version - pending.length;
    const events = this.#envelopes(pending, expectedVersion, context);
    if (!this.services.canCommit()) {
      control.abortAll();
      this.activation.onStale(new NotOwnerError(this.stream));
      throw new StaleActivationError(this.stream, new NotOwnerError(this.stream));
    }
    const telemetry = this.services.telemetry;
    const started = telemetry.metricsOn ? performance.now() : 0;
    const callSpan = telemetry.tracingOn() ? parseTraceparent(context.traceparent) : undefined;
    const span = callSpan
      ? telemetry.tracer.startSpan(
          "granary.append",
          {
            attributes: {
              "granary.stream": this.stream,
              "granary.events": events.length,
              "granary.version": expectedVersion,
            },
          },
          trace.setSpanContext(ROOT_CONTEXT, callSpan),
        )
      : undefined;
    try {
      await this.services.store.append(this.stream, expectedVersion, events, { epoch: this.epoch });
    } catch (error) {
      span?.recordException(error as Error);
      control.abortAll();
      if (isGranaryError(error, ErrorCode.VersionConflict) || isGranaryError(error, ErrorCode.FencedWrite)) {
        this.services.telemetry.versionConflicts.add(1, { actor_type: this.info.type });
        this.activation.onStale(error);
        throw new StaleActivationError(this.stream, error);
      }
      // Purged while this activation ran (e.g. through the store directly): its state is gone too.
      if (isGranaryError(error, ErrorCode.StreamPurged)) this.activation.onPurged(error);
      throw error;
    } finally {
      span?.end();
      if (telemetry.metricsOn)
        telemetry.appendLatency.record(performance.now() - started, { actor_type: this.info.type });
    }
    this.snapshotter.afterCommit();
  }

  #envelopes(pending: readonly PendingEvent[], expectedVersion: number, context: CallContext): EventEnvelope[] {
    const { callId, correlationId, userId, chain } = context;
    const span = parseTraceparent(context.traceparent);
    const traced = span !== undefined;
    const parentCallId = chain.length > 1 ? chain[chain.length - 2] : undefined;
    const metadata = {
      correlationId,
      causationId: callId,
      commandId: callId,
      ...(userId === undefined ? {} : { userId }),
      ...(traced ? { traceId: span.traceId, spanId: span.spanId } : {}),
      method: this.#method,
      ...(parentCallId === undefined ? {} : { parentCallId }),
      ...(context.metadata === undefined ? {} : { callMetadata: context.metadata }),
    };
    const upcasters = this.info.upcasters;
    return pending.map((event, i) => ({
      id: newId(),
      type: event.type,
      stream: this.stream,
      version: expectedVersion + i + 1,
      schemaVersion: upcasters ? upcasters.currentVersion(event.type) : 1,
      data: event.data,
      metadata,
      timestamp: event.timestamp,
    }));
  }
}
