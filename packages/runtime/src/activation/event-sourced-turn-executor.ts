import {
  type AppendOptions,
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
import { ROOT_CONTEXT, type Span, trace } from "@opentelemetry/api";
import type { CallContext, CallRequest } from "../calls/call-context.js";
import { capture, captured } from "../calls/deferred.js";
import { newEventId } from "../calls/event-ids.js";
import { argsDigest, encodeReply, IdempotencyTable } from "../calls/idempotency.js";
import { parseTraceparent } from "../telemetry/call-tracing.js";
import type { ActivationServices } from "./activation-services.js";
import { type ActorTypeInfo, isReadOnly } from "./actor-type-info.js";
import type { PendingCall } from "./mailbox.js";
import { OpenTurns } from "./open-turns.js";
import type { Snapshotter } from "./snapshotter.js";
import { asTurnError, callInTurn, resolveMethod, runInTurn, type TurnExecutor } from "./turn-executor.js";

type ActorMethod = (...args: unknown[]) => unknown;

/** Event metadata as the runtime writes it (optional fields only when set). */
type EventMetadata = { -readonly [K in keyof EventEnvelope["metadata"]]: EventEnvelope["metadata"][K] };

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
    // Copied with Object.assign, then set: properties after a spread take V8's slow path on Node 20.
    const metadata: EventMetadata = Object.assign({}, event.metadata);
    metadata.idempotency = last && reply !== undefined ? record : rest;
    const keyed: { -readonly [K in keyof EventEnvelope]: EventEnvelope[K] } = Object.assign({}, event);
    keyed.metadata = metadata;
    events[i] = keyed;
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
  /** A command run by {@link EventSourcedTurnExecutor.executeCommand} ended (its commit included). */
  commandSucceeded(call: PendingCall, value: unknown): void;
  /** A command run by {@link EventSourcedTurnExecutor.executeCommand} failed. */
  commandFailed(call: PendingCall, error: unknown): void;
}

/** Where a turn's outcome goes: a promise's resolving functions, or straight to the activation. */
interface Outcome {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The outcome of a turn whose caller awaits a promise (keyed calls, timer ticks, read-only calls). */
class PromiseOutcome implements Outcome {
  readonly promise: Promise<unknown> = new Promise(capture);
  readonly resolve = captured.resolve;
  readonly reject = captured.reject;
}

/**
 * The outcome of an ordinary command, handed to the activation as it ends: no promise of the
 * turn's own and no reaction of the activation's to it (one object instead of ~0.5 KiB and a hop).
 * Settles once, like a promise.
 */
class CallOutcome implements Outcome {
  #done = false;
  constructor(
    readonly host: TurnHost,
    readonly call: PendingCall,
  ) {}

  resolve(value: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.host.commandSucceeded(this.call, value);
  }

  reject(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.host.commandFailed(this.call, error);
  }
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
export class EventSourcedTurnExecutor extends OpenTurns implements TurnExecutor {
  get defersStart(): boolean {
    return true;
  }
  /** The snapshotter's nextDueAt as last read: a commit below it need not reach the snapshotter. */
  #snapshotDueAt = -1;
  readonly #control: EventSourcingControl;
  /** The same for every append of this activation: not one object per append. */
  readonly #appendOptions: AppendOptions;
  /** Turns whose events a failed commit discarded: they fail with that error when they end. */
  #aborted: Map<CallContext, unknown> | undefined;
  /** Appends and discards under way or waiting, and the promise the next one waits for. */
  #queued = 0;
  #tail: Promise<void> | undefined;
  #raiseRefused = false;
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
    control: EventSourcingControl = instance[eventSourcing],
  ) {
    super();
    this.#control = control;
    this.#appendOptions = Object.freeze({ epoch });
    this.#snapshotDueAt = snapshotter.nextDueAt;
  }

  /**
   * Reentrant calls become "running" (turnStarted) only when their turn starts; others already are.
   * With `body` (a timer tick), the turn runs it instead of a method, as a command.
   */
  execute(request: CallRequest, reentrant: boolean, body?: () => unknown): Promise<unknown> {
    if (body) return this.#execute(request, reentrant, body);
    const key = request.idempotencyKey;
    if (key !== undefined && !isReadOnly(this.info, request.method)) return this.#executeKeyed(request, reentrant, key);
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

  /**
   * An ordinary command (no idempotency key, no timer body): its outcome goes to the activation
   * (`commandSucceeded` / `commandFailed`) instead of a promise. Throws synchronously only before
   * the call was opened (an unknown method).
   */
  executeCommand(call: PendingCall, reentrant: boolean): void {
    const request = call.request;
    const method = resolveMethod(this.info, this.instance, request.method);
    this.#begin(request, reentrant, true, method, undefined, new CallOutcome(this.activation, call));
  }

  #execute(request: CallRequest, reentrant: boolean, body?: () => unknown): Promise<unknown> {
    const method = body ? undefined : resolveMethod(this.info, this.instance, request.method);
    const command = body !== undefined || !isReadOnly(this.info, request.method);
    const outcome = new PromiseOutcome();
    this.#begin(request, reentrant, command, method, body, outcome);
    return outcome.promise;
  }

  #begin(
    request: CallRequest,
    reentrant: boolean,
    command: boolean,
    method: ActorMethod | undefined,
    body: (() => unknown) | undefined,
    outcome: Outcome,
  ): void {
    const context = request.context;
    const parent = this.newest;
    this.#setSideBySide(this.open(context, command, request.method));
    if (!reentrant || (parent === undefined && this.#queued === 0)) {
      if (reentrant) this.activation.turnStarted(context);
      this.#run(request, command, method, body, outcome);
      return;
    }
    // Re-entry: what the open turns raised becomes durable first, so this call never reads, builds
    // on or acknowledges an event that could still be discarded.
    this.#flush(parent ?? context).then(
      () => {
        this.activation.turnStarted(context);
        this.#run(request, command, method, body, outcome);
      },
      (error: unknown) => {
        // Those events were the open turns': they must not reply as if they were kept.
        for (const other of this.all()) if (other !== context) this.#abort(other, error);
        this.#close(context, false);
        outcome.reject(error);
      },
    );
  }

  /** The actor's code for this call: the method, or a timer tick's body. */
  #start(request: CallRequest, method: ActorMethod | undefined, body: (() => unknown) | undefined): Promise<unknown> {
    return method
      ? callInTurn(request, method, this.instance, request.args as unknown[])
      : runInTurn(request, body as () => unknown);
  }

  #run(
    request: CallRequest,
    command: boolean,
    method: ActorMethod | undefined,
    body: (() => unknown) | undefined,
    outcome: Outcome,
  ): void {
    const context = request.context;
    if (!command) {
      // Read-only calls run outside any turn (they may overlap), so raise() in them fails.
      let reading: Promise<unknown>;
      try {
        reading = this.#start(request, method, body);
      } catch (error) {
        reading = Promise.reject(error);
      }
      reading.then(
        (value) => {
          this.#close(context, false);
          outcome.resolve(value);
        },
        (error: unknown) => {
          this.#close(context, false);
          outcome.reject(error);
        },
      );
      return;
    }
    this.#control.beginTurn();
    let running: Promise<unknown>;
    try {
      running = this.#start(request, method, body);
    } catch (error) {
      this.#failInto(context, error, outcome);
      return;
    }
    // The turn's outcome is settled by hand (no promise returned from a reaction, which would cost
    // two more hops to adopt): a command usually commits once and replies.
    running.then(
      (result) => {
        try {
          this.#succeed(context, result, outcome);
        } catch (error) {
          outcome.reject(error);
        }
      },
      (error: unknown) => this.#failInto(context, error, outcome),
    );
  }

  #succeed(context: CallContext, result: unknown, outcome: Outcome): void {
    const aborted = this.#aborted?.get(context);
    if (aborted !== undefined) {
      this.#failInto(context, aborted, outcome);
      return;
    }
    if (this.#queued === 0) {
      const pending = this.#control.pending();
      if (pending.length === 0) {
        this.#close(context, true);
        outcome.resolve(result);
        return;
      }
      // Nothing else is appending and no key is involved: commit at once, without the queue's
      // promise chain (the common case: one command, its events, its reply).
      if (!this.#keyed?.has(context)) {
        this.#commitAlone(context, result, pending, outcome);
        return;
      }
    }
    this.#flush(context, { result }).then(
      () => this.#replyCommitted(context, result, outcome),
      (error: unknown) => {
        this.#close(context, true);
        outcome.reject(error);
      },
    );
  }

  /** The turn's events are durable: it replies, unless a discard meanwhile failed it. */
  #replyCommitted(context: CallContext, result: unknown, outcome: Outcome): void {
    const late = this.#aborted?.get(context);
    if (late !== undefined) {
      this.#failInto(context, late, outcome);
      return;
    }
    this.#close(context, true);
    outcome.resolve(result);
  }

  /**
   * What #flush, #commitPending and #append do for a turn's final commit when nothing else is
   * queued, in one reaction to the store's promise: the append counts as queued (a re-entry or a
   * discard meanwhile waits for it), then the events are committed or discarded, then the turn
   * closes and replies.
   */
  #commitAlone(context: CallContext, result: unknown, pending: readonly PendingEvent[], outcome: Outcome): void {
    const control = this.#control;
    const count = pending.length;
    const expectedVersion = control.durableVersion;
    let span: Span | undefined;
    let started = 0;
    // Whether the store was reached: only its failures are classified (stale, purged) and timed.
    let reached = false;
    let appended: Promise<unknown>;
    try {
      const events = this.#envelopesChecked(pending, expectedVersion, context, undefined);
      started = this.services.telemetry.metricsOn ? performance.now() : 0;
      span = this.#appendSpan(context, events.length, expectedVersion);
      reached = true;
      appended = this.services.store.append(this.stream, expectedVersion, events, this.#appendOptions);
    } catch (error) {
      appended = Promise.reject(error);
    }
    this.#queued++;
    // Never rejects, like the queue's tail: the next append or discard runs whatever happened here.
    const done = appended.then(
      () => {
        this.#appendEnded(span, started);
        try {
          control.committed(count);
          this.#afterCommit(expectedVersion + count);
        } catch (error) {
          // As when #commitPending throws after its append: the turn fails with it.
          this.#dequeue();
          this.#close(context, true);
          outcome.reject(error);
          return;
        }
        this.#dequeue();
        this.#replyCommitted(context, result, outcome);
      },
      (error: unknown) => {
        let failure = error;
        if (reached) {
          failure = this.#appendFailed(error, span);
          this.#appendEnded(span, started);
        }
        // Whatever is pending was raised on top of events that were not written; other open
        // commands may have raised some of it (see #commitPending).
        control.discardPending();
        for (const other of this.all()) {
          if (other !== context && this.isCommand(other)) this.#abort(other, failure);
        }
        this.#dequeue();
        this.#close(context, true);
        outcome.reject(failure);
      },
    );
    this.#tail = done;
  }

  /** {@link #fail} into an outcome. */
  #failInto(context: CallContext, error: unknown, outcome: Outcome): void {
    this.#fail(context, error).then(undefined, (failure: unknown) => outcome.reject(failure));
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
    for (const other of this.all()) {
      if (other !== context && this.isCommand(other)) {
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
    this.#setSideBySide(this.close(context));
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
    const settled = () => this.#dequeue();
    this.#tail = run.then(settled, settled);
    return run;
  }

  #dequeue(): void {
    if (--this.#queued === 0) this.#tail = undefined;
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
      for (const other of this.all()) {
        if (other !== context && this.isCommand(other)) this.#abort(other, error);
      }
      throw error;
    }
    control.committed(count);
    if (keyed && record) {
      keyed.committed = true;
      this.#idempotency?.committed(record, expectedVersion + count);
    }
    this.#afterCommit(expectedVersion + count);
  }

  /** The snapshot policy after a commit that made `durableVersion` durable. */
  #afterCommit(durableVersion: number): void {
    const due = this.#snapshotDueAt;
    if (due < 0 || durableVersion < due) return;
    this.snapshotter.afterCommit();
    this.#snapshotDueAt = this.snapshotter.nextDueAt;
  }

  async #append(
    pending: readonly PendingEvent[],
    expectedVersion: number,
    context: CallContext,
    idempotency: IdempotencyRecord | undefined,
  ): Promise<void> {
    const events = this.#envelopesChecked(pending, expectedVersion, context, idempotency);
    const started = this.services.telemetry.metricsOn ? performance.now() : 0;
    const span = this.#appendSpan(context, events.length, expectedVersion);
    try {
      await this.services.store.append(this.stream, expectedVersion, events, this.#appendOptions);
    } catch (error) {
      throw this.#appendFailed(error, span);
    } finally {
      this.#appendEnded(span, started);
    }
  }

  /** The envelopes of an append, once this silo may still write (its membership lease is valid). */
  #envelopesChecked(
    pending: readonly PendingEvent[],
    expectedVersion: number,
    context: CallContext,
    idempotency: IdempotencyRecord | undefined,
  ): EventEnvelope[] {
    const events = this.#envelopes(pending, expectedVersion, context);
    if (idempotency) withIdempotency(events, idempotency);
    if (!this.services.canCommit()) {
      this.activation.onStale(new NotOwnerError(this.stream));
      throw new StaleActivationError(this.stream, new NotOwnerError(this.stream));
    }
    return events;
  }

  #appendSpan(context: CallContext, events: number, expectedVersion: number): Span | undefined {
    const telemetry = this.services.telemetry;
    const callSpan = telemetry.tracingOn() ? parseTraceparent(context.traceparent) : undefined;
    return callSpan
      ? telemetry.tracer.startSpan(
          "granary.append",
          {
            attributes: {
              "granary.stream": this.stream,
              "granary.events": events,
              "granary.version": expectedVersion,
            },
          },
          trace.setSpanContext(ROOT_CONTEXT, callSpan),
        )
      : undefined;
  }

  /** What a failed append means: another activation wrote (this one is stale), or the stream was purged. */
  #appendFailed(error: unknown, span: Span | undefined): unknown {
    span?.recordException(error as Error);
    if (isGranaryError(error, ErrorCode.VersionConflict) || isGranaryError(error, ErrorCode.FencedWrite)) {
      this.services.telemetry.versionConflicts.add(1, { actor_type: this.info.type });
      this.activation.onStale(error);
      return new StaleActivationError(this.stream, error);
    }
    // Purged while this activation ran (e.g. through the store directly): its state is gone too.
    if (isGranaryError(error, ErrorCode.StreamPurged)) this.activation.onPurged(error);
    return error;
  }

  #appendEnded(span: Span | undefined, started: number): void {
    span?.end();
    const telemetry = this.services.telemetry;
    if (telemetry.metricsOn)
      telemetry.appendLatency.record(performance.now() - started, { actor_type: this.info.type });
  }

  #envelopes(pending: readonly PendingEvent[], expectedVersion: number, context: CallContext): EventEnvelope[] {
    const { callId, correlationId, userId, chain } = context;
    const span = context.traceparent === undefined ? undefined : parseTraceparent(context.traceparent);
    const method = this.methodOf(context);
    // Built field by field rather than by spreading optional parts, from an empty literal: it has
    // room for the usual four fields in the object itself, and no allocation site V8 could
    // pretenure while appends wait on a slow store (see callContext).
    const metadata = {} as EventMetadata;
    metadata.correlationId = correlationId;
    metadata.causationId = callId;
    metadata.commandId = callId;
    if (userId !== undefined) metadata.userId = userId;
    if (span !== undefined) {
      metadata.traceId = span.traceId;
      metadata.spanId = span.spanId;
    }
    if (method !== undefined) metadata.method = method;
    if (chain.length > 1) metadata.parentCallId = chain[chain.length - 2] as string;
    if (context.metadata !== undefined) metadata.callMetadata = context.metadata;
    const upcasters = this.info.upcasters;
    const events = new Array<EventEnvelope>(pending.length);
    for (let i = 0; i < pending.length; i++) {
      const event = pending[i] as PendingEvent;
      events[i] = {
        id: newEventId(),
        type: event.type,
        stream: this.stream,
        version: expectedVersion + i + 1,
        schemaVersion: upcasters ? upcasters.currentVersion(event.type) : 1,
        data: event.data,
        metadata,
        timestamp: event.timestamp,
      };
    }
    return events;
  }
}
