import {
  ConcurrentRaiseError,
  ErrorCode,
  type EventEnvelope,
  type EventSourcedActor,
  type EventSourcingControl,
  type IdempotencyRecord,
  InvalidArgumentError,
  isGranaryError,
  NotOwnerError,
  type PendingEvent,
  StaleActivationError,
} from "@granary/core";
import { eventSourcing } from "@granary/core/internal";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import type { CallContext, CallRequest } from "../calls/call-context.js";
import { newEventId } from "../calls/event-ids.js";
import { argsDigest, encodeReply, IdempotencyTable } from "../calls/idempotency.js";
import { parseTraceparent } from "../telemetry/call-tracing.js";
import type { ActivationServices } from "./activation-services.js";
import type { ActorTypeInfo } from "./actor-type-info.js";
import { OpenTurns } from "./open-turns.js";
import type { Snapshotter } from "./snapshotter.js";
import { asTurnError, resolveMethod, runInTurn, type TurnExecutor } from "./turn-executor.js";

/** A keyed call running now. */
interface KeyedCall {
  readonly record: IdempotencyRecord;
  /** Whether any of its events were committed (then it is remembered, whatever its outcome). */
  committed: boolean;
}

function optionalReply(reply: string | undefined): { reply?: string } {
  return reply === undefined ? {} : { reply };
}

/**
 * Puts the key in every event's metadata, and the reply (when the record has one) only in the
 * last event's: it is needed once, and may be large.
 */
function withIdempotency(events: EventEnvelope[], record: IdempotencyRecord): void {
  const { reply, ...rest } = record;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as EventEnvelope;
    const last = i === events.length - 1;
    events[i] = { ...event, metadata: { ...event.metadata, idempotency: last && reply !== undefined ? record : rest } };
  }
}

/** What the executor tells its activation. */
export interface TurnHost {
  /** A commit found that another activation wrote: deactivate. */
  onStale(cause: unknown): void;
  /** A reentrant call's turn starts now (after the commit it waited for): it is now "running". */
  turnStarted(context: CallContext): void;
  /** An append met a purged stream: deactivate without snapshot. */
  onPurged(cause: unknown): void;
}

/**
 * Turns of an event-sourced actor. The durability rule, without exception: **no reply acknowledges
 * an event that is not durable, and no version is ever acknowledged for two events.** So:
 *
 * - every turn commits the events pending in the actor before it replies;
 * - a call that re-enters the actor (A → B → A′) first commits whatever the open turns raised, as
 *   `persist()` does, so A′ reads and builds on durable state only, and A′ then commits its own
 *   events before it replies: versions stay contiguous;
 * - a throw discards the events raised since the last commit (the state goes back to that durable
 *   point); events already committed, by a re-entry or `persist()`, stay; since the discarded
 *   events cannot be attributed to one turn when turns run at once, every other open command
 *   fails too (`CONCURRENT_RAISE`, kind "discarded");
 * - appends and discards of one actor run one at a time, in order;
 * - while two calls of one chain are inside the actor side by side rather than nested (see
 *   {@link OpenTurns}), `raise` is refused: neither call's events could be discarded alone;
 * - a failed commit discards everything pending (it was built on events that were not written),
 *   and the turns whose events those were fail with the commit's error.
 *
 * A version conflict or a fenced write means another activation wrote, so this one is stale.
 */
export class EventSourcedTurnExecutor implements TurnExecutor {
  readonly defersStart = true;
  readonly #control: EventSourcingControl;
  readonly #open = new OpenTurns();
  /** Turns whose events a failed commit discarded: they fail with that error when they end. */
  #aborted: Map<CallContext, unknown> | undefined;
  /** Appends and discards under way or waiting, and the promise the next one waits for. */
  #queued = 0;
  #tail: Promise<void> | undefined;
  #raiseRefused = false;
  /** The method of each call with a turn here, for the `method` of the events committed in its name. */
  readonly #methods = new WeakMap<CallContext, string>();
  /** Recent idempotency keys, created with the first keyed call. */
  #idempotency: IdempotencyTable | undefined;
  /** Keyed calls running now, by context: what their commits record. */
  #keyed: Map<CallContext, KeyedCall> | undefined;

  constructor(
    readonly info: ActorTypeInfo,
    readonly instance: EventSourcedActor<unknown, { type: string }>,
    readonly stream: string,
    readonly epoch: number,
    readonly services: ActivationServices,
    readonly snapshotter: Snapshotter,
    readonly activation: TurnHost,
  ) {
    this.#control = instance[eventSourcing];
  }

  /**
   * Reentrant calls become "running" (turnStarted) only when their turn starts; others already are.
   * With `body` (a timer tick), the turn runs it instead of a method, as a command.
   */
  execute(request: CallRequest, reentrant: boolean, body?: () => unknown): Promise<unknown> {
    if (body) return this.#execute(request, reentrant, body);
    const key = request.idempotencyKey;
    if (key !== undefined && !this.info.readOnly.has(request.method))
      return this.#executeKeyed(request, reentrant, key);
    return this.#execute(request, reentrant);
  }

  /**
   * A call with an idempotency key: answered from the first run's outcome when that run committed
   * events, else run with the key recorded in the metadata of what it commits (see calls/idempotency.ts).
   */
  async #executeKeyed(request: CallRequest, reentrant: boolean, key: string): Promise<unknown> {
    resolveMethod(this.info, this.instance, request.method);
    this.#idempotency ??= new IdempotencyTable(this.stream, this.services.store);
    const table = this.#idempotency;
    await table.ready(this.#control.durableVersion);
    const record = { key, method: request.method, args: argsDigest(request.args) };
    const seen = table.lookup(key, record.method, record.args);
    if (seen) return table.replay(key, seen);
    const call: KeyedCall = { record, committed: false };
    this.#keyed ??= new Map();
    const keyed = this.#keyed;
    keyed.set(request.context, call);
    try {
      const result = await this.#execute(request, reentrant);
      if (call.committed) table.settled(key, { ok: true, value: result });
      return result;
    } catch (error) {
      if (call.committed) table.settled(key, { ok: false, error });
      throw error;
    } finally {
      keyed.delete(request.context);
    }
  }

  #execute(request: CallRequest, reentrant: boolean, body?: () => unknown): Promise<unknown> {
    let run = body;
    if (!run) {
      const method = resolveMethod(this.info, this.instance, request.method);
      const args = request.args as unknown[];
      run = () => method.apply(this.instance, args);
    }
    const command = body !== undefined || !this.info.readOnly.has(request.method);
    const context = request.context;
    this.#methods.set(context, request.method);
    const parent = this.#open.newest;
    this.#setSideBySide(this.#open.open(context, command));
    if (!reentrant || (parent === undefined && this.#queued === 0)) {
      if (reentrant) this.activation.turnStarted(context);
      return this.#run(request, run, command);
    }
    // Re-entry: what the open turns raised becomes durable first, so this call never reads, builds
    // on or acknowledges an event that could still be discarded.
    return this.#flush(parent ?? context).then(
      () => {
        this.activation.turnStarted(context);
        return this.#run(request, run, command);
      },
      (error: unknown) => {
        // Those events were the open turns': they must not reply as if they were kept.
        for (const other of this.#open.all()) if (other !== context) this.#abort(other, error);
        this.#close(context, false);
        throw error;
      },
    );
  }

  #run(request: CallRequest, run: () => unknown, command: boolean) {
    const context = request.context;
    if (!command) {
      // Read-only calls run outside any turn (they may overlap), so raise() in them fails.
      let reading: Promise<unknown>;
      try {
        reading = runInTurn(request, run);
      } catch (error) {
        reading = Promise.reject(error);
      }
      return reading.finally(() => this.#close(context, false));
    }
    this.#control.beginTurn();
    let running: Promise<unknown>;
    try {
      running = runInTurn(request, run);
    } catch (error) {
      return this.#fail(context, error);
    }
    return running.then(
      (result) => this.#succeed(context, result),
      (error: unknown) => this.#fail(context, error),
    );
  }

  #succeed(context: CallContext, result: unknown): unknown {
    const aborted = this.#aborted?.get(context);
    if (aborted !== undefined) return this.#fail(context, aborted);
    if (this.#control.pending().length === 0 && this.#queued === 0) {
      this.#close(context, true);
      return result;
    }
    return this.#flush(context, { result }).then(
      () => {
        const late = this.#aborted?.get(context);
        if (late !== undefined) return this.#fail(context, late);
        this.#close(context, true);
        return result;
      },
      (error: unknown) => {
        this.#close(context, true);
        throw error;
      },
    );
  }

  /** A turn threw (or was aborted): back to the durable point, once the appends before are done. */
  async #fail(context: CallContext, error: unknown): Promise<never> {
    if (this.#queued > 0) await this.#enqueue(async () => this.#discard(context));
    else this.#discard(context);
    this.#close(context, true);
    throw asTurnError(error);
  }

  /**
   * Back to the durable point. Pending events cannot be attributed to the turn that raised them
   * when several turns of the actor run at once (a fan-out elsewhere in the chain can make a
   * "nested" call run beside its ancestor), so every other open command whose events may be among
   * the discarded ones fails too: it must never reply as if an event it raised were kept.
   */
  #discard(context: CallContext): void {
    if (this.#control.discardPending() === 0) return;
    for (const other of this.#open.all()) {
      if (other !== context && this.#open.isCommand(other)) {
        this.#abort(other, new ConcurrentRaiseError(this.stream, "discarded"));
      }
    }
  }

  #abort(context: CallContext, error: unknown): void {
    this.#aborted ??= new Map();
    if (!this.#aborted.has(context)) this.#aborted.set(context, error);
  }

  #close(context: CallContext, command: boolean): void {
    if (command) this.#control.endTurn();
    this.#setSideBySide(this.#open.close(context));
    if (this.#aborted?.delete(context) && this.#aborted.size === 0) this.#aborted = undefined;
  }

  #setSideBySide(sideBySide: boolean): void {
    if (sideBySide === this.#raiseRefused) return;
    this.#raiseRefused = sideBySide;
    this.#control.refuseRaise(sideBySide);
  }

  /** Commits the events pending now (the actor's `persist()`). */
  async persist(context: CallContext | undefined): Promise<void> {
    if (!context) throw new InvalidArgumentError("persist() can only be called inside a command method");
    await this.#flush(context);
  }

  /** Appends every pending event once the appends before it are done; `context` goes into their metadata. */
  #flush(context: CallContext, final?: { readonly result: unknown }): Promise<void> {
    return this.#enqueue(() => this.#commitPending(context, final));
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#queued === 0 || this.#tail === undefined ? op() : this.#tail.then(op);
    this.#queued++;
    const settled = () => {
      if (--this.#queued === 0) this.#tail = undefined;
    };
    this.#tail = run.then(settled, settled);
    return run;
  }

  async #commitPending(context: CallContext, final: { readonly result: unknown } | undefined): Promise<void> {
    const control = this.#control;
    const pending = control.pending();
    const count = pending.length;
    if (count === 0) return;
    const keyed = this.#keyed?.get(context);
    const record: IdempotencyRecord | undefined = keyed && {
      ...keyed.record,
      ...(final ? optionalReply(encodeReply(final.result)) : {}),
    };
    const expectedVersion = control.durableVersion;
    try {
      // #append builds the envelopes before its first await, so they hold exactly these `count` events.
      await this.#append(pending, expectedVersion, context, record);
    } catch (error) {
      // Whatever is pending was raised on top of events that were not written; other open
      // commands may have raised some of it, so they must not reply as if it were kept.
      control.discardPending();
      for (const other of this.#open.all()) {
        if (other !== context && this.#open.isCommand(other)) this.#abort(other, error);
      }
      throw error;
    }
    control.committed(count);
    if (keyed && record) {
      keyed.committed = true;
      this.#idempotency?.committed(record, expectedVersion + count);
    }
    this.snapshotter.afterCommit();
  }

  async #append(
    pending: readonly PendingEvent[],
    expectedVersion: number,
    context: CallContext,
    idempotency: IdempotencyRecord | undefined,
  ): Promise<void> {
    const events = this.#envelopes(pending, expectedVersion, context);
    if (idempotency) withIdempotency(events, idempotency);
    if (!this.services.canCommit()) {
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
  }

  #envelopes(pending: readonly PendingEvent[], expectedVersion: number, context: CallContext): EventEnvelope[] {
    const { callId, correlationId, userId, chain } = context;
    const span = parseTraceparent(context.traceparent);
    const traced = span !== undefined;
    const method = this.#methods.get(context);
    const parentCallId = chain.length > 1 ? chain[chain.length - 2] : undefined;
    const metadata = {
      correlationId,
      causationId: callId,
      commandId: callId,
      ...(userId === undefined ? {} : { userId }),
      ...(traced ? { traceId: span.traceId, spanId: span.spanId } : {}),
      ...(method === undefined ? {} : { method }),
      ...(parentCallId === undefined ? {} : { parentCallId }),
      ...(context.metadata === undefined ? {} : { callMetadata: context.metadata }),
    };
    const upcasters = this.info.upcasters;
    return pending.map((event, i) => ({
      id: newEventId(),
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
