import {
  type Actor,
  type ActorClass,
  type ActorRef,
  type CallOptions,
  ErrorCode,
  type EventSourcedActor,
  InvalidArgumentError,
  isGranaryError,
  messageOf,
  NotOwnerError,
  type RecordedEvent,
  type ReminderInfo,
  type ReminderOptions,
  type Snapshot,
  streamOf,
  type TimerOptions,
  type Tombstone,
} from "@granary/core";
import { type ActorHost, bindHost, eventSourcing } from "@granary/core/internal";
import { type CallContext, newCallId } from "../calls/call-context.js";
import { ActivationTimers } from "../timers/activation-timers.js";
import { tickCall } from "../timers/tick-call.js";
import type { ActivationServices } from "./activation-services.js";
import type { ActivationState } from "./activation-state.js";
import { type ActorTypeInfo, isReadOnly } from "./actor-type-info.js";
import { explainFrozenState, wireDataRefusal } from "./call-boundary.js";
import { EventSourcedTurnExecutor } from "./event-sourced-turn-executor.js";
import { Mailbox, type PendingCall } from "./mailbox.js";
import { prefetchSnapshot, rehydrate } from "./rehydration.js";
import { Snapshotter } from "./snapshotter.js";
import { asTurnError, callPlainMethod, PlainTurnExecutor, type TurnExecutor } from "./turn-executor.js";

/** Why an activation goes away. */
export type DeactivationReason = "idle" | "shutdown" | "stale" | "lost-ownership" | "purged";

/** How an activation tells its catalog that it is gone, handing back calls it did not run. */
export interface ActivationHooks {
  /** Activation failed: `calls` never ran; the catalog answers them (error or re-route). */
  onFailed(activation: Activation, error: unknown, calls: PendingCall[]): void;
  /** Deactivated: `calls` never ran and go to a successor activation. */
  onGone(activation: Activation, calls: PendingCall[]): void;
}

// Times an activation keeps are stored relative to the first clock reading of the process: small
// integers that V8 keeps in the object itself, where an epoch-millisecond value is boxed in a
// separate heap number that every call's write would have to reach.
let clockBase: number | undefined;
function sinceBase(now: number): number {
  clockBase ??= now;
  return now - clockBase;
}

/** The parts of an activation few ever use (see `Activation.#seldom`). */
interface Seldom {
  idleWaiters: (() => void)[] | undefined;
  gone: Promise<void> | undefined;
  resolveGone: (() => void) | undefined;
  timers: ActivationTimers | undefined;
  failure: unknown;
}

function seldom(): Seldom {
  return { idleWaiters: undefined, gone: undefined, resolveGone: undefined, timers: undefined, failure: undefined };
}

/**
 * One activation of one actor on this silo: its lifecycle (see {@link ActivationState}), its
 * mailbox and its turn loop. Turns run one at a time, except reentrant calls of a chain that is
 * already inside this actor.
 */
export class Activation extends Mailbox implements ActorHost {
  // Declared in the order of the object's layout: what every call reads comes first, so a call to
  // one of many actors touches as few cache lines of its activation as possible.
  readonly info: ActorTypeInfo;
  readonly services: ActivationServices;
  #state: ActivationState = "activating";
  #executor: TurnExecutor | undefined;
  #instance: Actor | undefined;
  /** Clock time of the last call, minus CLOCK_BASE (see sinceBase). */
  #lastActive = 0;
  /** Read-only calls running now. */
  #readers = 0;
  readonly actorId: string;
  readonly key: string;
  /** Unique among activations anywhere: this process's call-id prefix and a counter. */
  readonly activationId = newCallId();
  readonly hooks: ActivationHooks;
  /**
   * Holds the actor's directory entry for a purge only: registers, never rehydrates or runs a
   * call; calls arriving meanwhile wait and go to a successor once the purge is done.
   */
  readonly purgeOnly: boolean;
  #snapshotter: Snapshotter | undefined;
  /** Fencing epoch issued when this activation registered; undefined until then. */
  #epoch: number | undefined;
  #isGone = false;
  #activated: Promise<void> | undefined;
  // Created on demand: most activations never set a timer, fail, or deactivate while someone waits
  // on them, and an idle activation should cost little more than the actor it holds.
  #seldom: Seldom | undefined;

  constructor(
    info: ActorTypeInfo,
    actorId: string,
    services: ActivationServices,
    hooks: ActivationHooks,
    purgeOnly = false,
  ) {
    super();
    this.info = info;
    this.services = services;
    this.#lastActive = sinceBase(services.clock.now());
    this.actorId = actorId;
    this.key = streamOf(info.type, actorId);
    this.hooks = hooks;
    this.purgeOnly = purgeOnly;
  }

  #more(): Seldom {
    this.#seldom ??= seldom();
    return this.#seldom;
  }

  get state(): ActivationState {
    return this.#state;
  }

  // ActorHost: the activation itself is what its actor instance is bound to (no per-actor closures).

  get id(): string {
    return this.actorId;
  }

  get type(): string {
    return this.info.type;
  }

  get freezeState(): boolean {
    return this.services.freezeState;
  }

  get<T extends Actor>(type: ActorClass<T>, id: string, options?: CallOptions): ActorRef<T> {
    return this.services.refs.ref(type, id, options, () => this.current);
  }

  persist(): Promise<void> {
    const executor = this.#executor;
    if (!(executor instanceof EventSourcedTurnExecutor)) {
      return Promise.reject(new InvalidArgumentError("persist() is for event-sourced actors inside a command method"));
    }
    return executor.persist(this.current);
  }

  readHistory(fromVersion: number): Promise<RecordedEvent[]> {
    return this.services.store.read(this.key, fromVersion);
  }

  setTimer(name: string, options: TimerOptions, callback: () => unknown): void {
    const more = this.#more();
    more.timers ??= new ActivationTimers(this.services.clock, this.services.logger, this.key, (timer, body) =>
      tickCall(this, timer, body),
    );
    more.timers.set(name, options, callback);
  }

  cancelTimer(name: string): boolean {
    return this.#seldom?.timers?.cancel(name) ?? false;
  }

  timerNames(): string[] {
    return this.#seldom?.timers?.names() ?? [];
  }

  remind(name: string, options: ReminderOptions): Promise<void> {
    const handler = ((this.#instance ?? this.info.cls.prototype) as { onReminder?: unknown }).onReminder;
    if (typeof handler !== "function") {
      return Promise.reject(
        new InvalidArgumentError(`remind("${name}"): ${this.info.type} has no onReminder(name, tick) method to call`),
      );
    }
    return this.services.reminders.register(this.key, name, options, this.current?.traceparent);
  }

  cancelReminder(name: string): Promise<boolean> {
    return this.services.reminders.cancel(this.key, name);
  }

  reminders(): Promise<ReminderInfo[]> {
    return this.services.reminders.list(this.key);
  }

  /** Resolves once the activation has failed or been deactivated. */
  get gone(): Promise<void> {
    if (this.#isGone) return Promise.resolve();
    const more = this.#more();
    more.gone ??= new Promise((resolve) => {
      more.resolveGone = resolve;
    });
    return more.gone;
  }

  #markGone(): void {
    this.#isGone = true;
    // References may still remember this activation (see RouteSlot) until their next call: what is
    // gone should not keep the actor's state alive through them.
    this.#instance = undefined;
    this.#executor = undefined;
    this.#snapshotter = undefined;
    this.#seldom?.resolveGone?.();
  }

  get epoch(): number | undefined {
    return this.#epoch;
  }

  /** The actor instance, once created (for inspection by operators; never for calls). */
  get instance(): Actor | undefined {
    return this.#instance;
  }

  /** Clock time of the last call this activation received. */
  get lastActiveAt(): number {
    return this.#lastActive + (clockBase as number);
  }

  get mailboxDepth(): number {
    return this.depth;
  }

  /** Idle: active, nothing running or waiting, and no call for at least `idleMs`. */
  isIdle(now: number, idleMs: number): boolean {
    return (
      this.#state === "active" &&
      this.runningTurns === 0 &&
      this.depth === 0 &&
      !this.#seldom?.timers?.keepsAlive &&
      now - this.lastActiveAt >= idleMs
    );
  }

  start(): void {
    this.#activated = this.#activate().finally(() => {
      this.#activated = undefined;
    });
  }

  /**
   * Runs or queues a call; false when this activation no longer takes calls (deactivating or
   * gone): the caller waits for `gone` and dispatches to the successor.
   */
  enqueue(call: PendingCall): boolean {
    const state = this.#state;
    const reentrant = this.isReentrant(call.request);
    if (state === "deactivated" || state === "failed") return false;
    if (state === "deactivating" && !reentrant) return false;
    if (state !== "activating" && (this.runningTurns === 0 || reentrant || this.#joinsReaders(call))) {
      this.#run(call, reentrant);
    } else {
      this.push(call);
      const telemetry = this.services.telemetry;
      if (telemetry.metricsOn) telemetry.mailboxDepth.record(this.depth, { actor_type: this.info.type });
    }
    return true;
  }

  async #activate(): Promise<void> {
    const services = this.services;
    const span = services.telemetry.tracer.startSpan("granary.activate", {
      attributes: { "granary.actor": this.key, "granary.silo": services.siloId },
    });
    // A slot bounds how many activations load at once; it is given back before onActivate, which
    // may call actors that need a slot themselves.
    const slots = services.activationSlots;
    let holdsSlot = false;
    const releaseSlot = (): void => {
      if (holdsSlot) slots?.release();
      holdsSlot = false;
    };
    try {
      const queued = slots?.acquire();
      if (queued) await queued;
      holdsSlot = slots !== undefined;
      // Read while the directory registers: one round trip less before the first call runs.
      const snapshot = this.purgeOnly ? undefined : prefetchSnapshot(this.info, this.key, services);
      const entry = await services.directory.register(this.key, services.siloId, this.activationId);
      if (entry.activationId !== this.activationId) throw new NotOwnerError(this.key);
      this.#epoch = entry.epoch;
      // Stays "activating": calls queue until purge() hands them to a successor.
      if (this.purgeOnly) return;
      const instance = new this.info.cls();
      instance[bindHost](this);
      this.#instance = instance;
      this.#executor = await this.#createExecutor(instance, entry.epoch, snapshot);
      releaseSlot();
      if (instance.onActivate) await instance.onActivate();
      this.#state = "active";
      services.telemetry.activations.add(1, { actor_type: this.info.type });
      services.logger.debug({ actor: this.key, epoch: entry.epoch }, "activated");
      this.#pump();
    } catch (error) {
      releaseSlot();
      this.#state = "failed";
      this.#seldom?.timers?.close();
      this.#more().failure = error;
      span.recordException(error as Error);
      if (this.#epoch !== undefined) await this.#unregister();
      // A purged actor failing to activate is the expected answer, not an incident; losing the
      // directory race and being shed while waiting for a slot are not failures to report either.
      if (isGranaryError(error, ErrorCode.StreamPurged)) {
        services.logger.debug({ actor: this.key }, "activation refused: the stream was purged");
      } else if (!(error instanceof NotOwnerError) && !isGranaryError(error, ErrorCode.Overloaded)) {
        services.logger.warn({ actor: this.key, err: messageOf(error) }, "activation failed");
      }
      this.hooks.onFailed(this, error, this.#drainCalls());
      this.#markGone();
    } finally {
      span.end();
    }
  }

  async #createExecutor(
    instance: Actor,
    epoch: number,
    snapshot: Promise<Snapshot | undefined> | undefined,
  ): Promise<TurnExecutor> {
    if (!this.info.eventSourced) return new PlainTurnExecutor(this.info, instance);
    const esInstance = instance as EventSourcedActor<unknown, { type: string }>;
    // One handle on the actor's event sourcing for the snapshotter and the executor.
    const control = esInstance[eventSourcing];
    const span = this.services.telemetry.tracer.startSpan("granary.replay", {
      attributes: { "granary.actor": this.key },
    });
    try {
      const snapshotVersion = await rehydrate(this.info, esInstance, this.key, this.services, undefined, snapshot);
      this.#snapshotter = new Snapshotter(this.info, esInstance, this.key, this.services, snapshotVersion, control);
      span.setAttribute("granary.version", esInstance.version);
    } finally {
      span.end();
    }
    const snapshotter = this.#snapshotter;
    return new EventSourcedTurnExecutor(
      this.info,
      esInstance,
      this.key,
      epoch,
      this.services,
      snapshotter,
      this,
      control,
    );
  }

  /** A read-only call may join running read-only calls when no other call is waiting before it. */
  #joinsReaders(call: PendingCall): boolean {
    return (
      this.#readers > 0 &&
      this.#readers === this.runningTurns &&
      this.depth === 0 &&
      isReadOnly(this.info, call.request.method)
    );
  }

  #run(call: PendingCall, reentrant = false): void {
    const request = call.request;
    const readOnly = isReadOnly(this.info, request.method);
    if (readOnly) this.#readers++;
    const executor = this.#executor as TurnExecutor;
    // A reentrant event-sourced call first waits for a commit: it counts as running (the context
    // its own calls continue) only once its turn starts, so calls its caller makes meanwhile keep
    // their own chain.
    if (!reentrant || !executor.defersStart) this.started(request.context);
    if (this.info.eventSourced && !readOnly && call.body === undefined && request.idempotencyKey === undefined) {
      // An ordinary command: the executor answers through commandSucceeded / commandFailed.
      try {
        (executor as EventSourcedTurnExecutor).executeCommand(call, reentrant);
      } catch (error) {
        // Settled a reaction later, as a rejected turn would be: never inside enqueue's caller.
        Promise.reject(error).then(undefined, (failure: unknown) => this.commandFailed(call, failure));
      }
      return;
    }
    let turn: Promise<unknown>;
    try {
      // A plain actor's ordinary call needs only the instance: the executor object is not touched.
      turn =
        this.info.eventSourced || call.body !== undefined || request.idempotencyKey !== undefined
          ? executor.execute(request, reentrant, call.body)
          : callPlainMethod(this.info, this.#instance as Actor, request);
    } catch (error) {
      turn = Promise.reject(error);
    }
    turn.then(
      (value) => {
        this.#finished(call, readOnly);
        // The result crosses the same check locally as remotely (a Map is refused on both paths).
        const refused = wireDataRefusal(value, this.info.type, request.method);
        if (refused) call.reject(refused);
        else call.resolve(value);
      },
      (error: unknown) => {
        this.#finished(call, readOnly);
        const explained = this.info.eventSourced && this.services.freezeState ? explainFrozenState(error) : error;
        // Event-sourced turns classify their own errors (a stale commit stays retryable).
        call.reject(this.info.eventSourced ? explained : asTurnError(explained));
      },
    );
  }

  #finished(call: PendingCall, readOnly: boolean): void {
    if (readOnly) this.#readers--;
    this.finished(call.request.context);
    // A timer tick is not a call: it does not keep the actor from idle collection (keepAlive does).
    if (!call.body) this.#lastActive = sinceBase(this.services.clock.now());
    if (this.runningTurns === 0) this.#pump();
  }

  #pump(): void {
    if (this.#state === "active") {
      const next = this.shift();
      if (next) {
        this.#run(next);
        // Consecutive read-only calls start together.
        while (isReadOnly(this.info, next.request.method) && isReadOnly(this.info, this.peek()?.request.method ?? "")) {
          this.#run(this.shift() as PendingCall);
        }
        return;
      }
    } else if (this.#state === "deactivating" && this.depth > 0) {
      // Shutdown drains: calls accepted before deactivation still run.
      const next = this.shift() as PendingCall;
      this.#run(next);
      return;
    }
    if (this.runningTurns === 0 && this.depth === 0) {
      const more = this.#seldom;
      const waiters = more?.idleWaiters;
      if (more && waiters) {
        more.idleWaiters = undefined;
        for (const wake of waiters) wake();
      }
    }
  }

  #settled(): Promise<void> {
    if (this.runningTurns === 0 && this.depth === 0) return Promise.resolve();
    const more = this.#more();
    return new Promise((resolve) => {
      more.idleWaiters ??= [];
      more.idleWaiters.push(resolve);
    });
  }

  /**
   * Purges this actor: no snapshot, no further turns. Calls waiting in the mailbox go to a
   * successor activation (which finds the stream purged); the running turn finishes first (its
   * events are erased with the rest). `erase` runs while this activation still holds the directory
   * entry, so no activation anywhere can start before the tombstone is written.
   *
   * @returns the tombstone, or undefined when this activation was already going away (the caller
   *   dispatches the purge again, to the successor)
   * @throws the activation's failure (e.g. NotOwnerError: another silo owns the actor)
   */
  async purge(erase: () => Promise<Tombstone>): Promise<Tombstone | undefined> {
    if (this.#state === "activating" && this.#activated) await this.#activated;
    if (this.#state === "failed") throw this.#seldom?.failure;
    const registered = this.#state === "active" || (this.purgeOnly && this.#state === "activating");
    if (!registered) {
      await this.gone;
      return undefined;
    }
    const wasActive = this.#state === "active";
    this.#state = "deactivating";
    const handover = this.drain();
    try {
      await this.#settled();
      return await erase();
    } finally {
      await this.#unregister();
      this.#state = "deactivated";
      if (wasActive) this.services.telemetry.activations.add(-1, { actor_type: this.info.type });
      this.services.logger.debug({ actor: this.key, reason: "purged" }, "deactivated");
      this.hooks.onGone(this, handover);
      this.#markGone();
    }
  }

  /** Called by the turn executor when an append met a purged stream: go, without snapshot. */
  onPurged(cause: unknown): void {
    this.services.logger.info({ actor: this.key, err: messageOf(cause) }, "stream was purged; deactivating");
    void this.deactivate("purged");
  }

  /** Called by the event-sourced turn executor when a command it ran with `executeCommand` ends. */
  commandSucceeded(call: PendingCall, value: unknown): void {
    this.#finished(call, false);
    const refused = wireDataRefusal(value, this.info.type, call.request.method);
    if (refused) call.reject(refused);
    else call.resolve(value);
  }

  /** Called by the event-sourced turn executor when a command it ran with `executeCommand` fails. */
  commandFailed(call: PendingCall, error: unknown): void {
    this.#finished(call, false);
    // Event-sourced turns classify their own errors (a stale commit stays retryable).
    call.reject(this.services.freezeState ? explainFrozenState(error) : error);
  }

  /** Called by the event-sourced turn executor when a reentrant call's turn starts. */
  turnStarted(context: CallContext): void {
    this.started(context);
  }

  /** Called by the turn executor when a commit found that another activation wrote. */
  onStale(cause: unknown): void {
    this.services.logger.warn({ actor: this.key, err: messageOf(cause) }, "activation is stale; deactivating");
    void this.deactivate("stale");
  }

  /**
   * Deactivates: idle and shutdown finish the waiting calls first, then onDeactivate and a final
   * snapshot; stale, lost-ownership and purged hand the waiting calls to a successor and skip both
   * (their state is not the stream's, or the stream is gone).
   */
  async deactivate(reason: DeactivationReason): Promise<void> {
    if (this.#state === "activating") await this.#activated;
    if (this.#state !== "active") return this.gone;
    this.#state = "deactivating";
    this.#seldom?.timers?.close();
    const abrupt = reason === "stale" || reason === "lost-ownership" || reason === "purged";
    const handover = abrupt ? this.#drainCalls() : [];
    try {
      await this.#settled();
      if (!abrupt) {
        await this.#instance?.onDeactivate?.()?.catch((error: unknown) => {
          this.services.logger.warn({ actor: this.key, err: messageOf(error) }, "onDeactivate threw");
        });
        await this.#snapshotter?.take();
      }
    } finally {
      await this.#unregister();
      this.#state = "deactivated";
      this.services.telemetry.activations.add(-1, { actor_type: this.info.type });
      this.services.logger.debug({ actor: this.key, reason }, "deactivated");
      this.hooks.onGone(this, handover);
      this.#markGone();
    }
  }

  /** Takes the waiting calls for a successor; timer ticks belong to this instance and are dropped. */
  #drainCalls(): PendingCall[] {
    const calls = this.drain();
    return calls.some((call) => call.body) ? calls.filter((call) => !call.body) : calls;
  }

  async #unregister(): Promise<void> {
    try {
      await this.services.directory.unregister(this.key, this.activationId);
    } catch (error) {
      // The entry dies with this silo's membership anyway; a failed unregister only delays takeover.
      this.services.logger.warn({ actor: this.key, err: messageOf(error) }, "directory unregister failed");
    }
  }
}
