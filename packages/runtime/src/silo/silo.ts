import {
  type Actor,
  type ActorClass,
  type ActorRef,
  type ActorRefFactory,
  type CallOptions,
  type DocumentOf,
  type DocumentProjectionClass,
  type ErrorClass,
  formatAddress,
  messageOf,
  type PastActorRef,
  type PastCallOptions,
  type PointInTime,
  type PurgeRequest,
  type ReminderInfo,
  ShuttingDownError,
  type TimerHandle,
  type TimeTravelRefFactory,
  type Tombstone,
} from "@granary/core";
import type { Logger } from "pino";
import { ActorTypeRegistry } from "../activation/actor-type-info.js";
import type { SiloAdmin } from "../admin/silo-admin.js";
import { resolveSiloInspector } from "../admin/silo-inspector.js";
import type { AdmissionControl } from "../admission/admission-control.js";
import { type ResolvedAdmissionOptions, resolveAdmissionOptions } from "../admission/admission-options.js";
import { type CallInvoker, createActorRef } from "../calls/actor-proxy.js";
import { type CallContext, type CallRequest, newId } from "../calls/call-context.js";
import type { Catalog } from "../catalog/catalog.js";
import { resolveClusterOptions } from "../cluster/cluster-options.js";
import type { ForgetResult } from "../crypto/data-subject.js";
import { PersonalDataRules } from "../crypto/personal-data-rules.js";
import type { BusEvent, BusSubscribeOptions, BusSubscription } from "../events-bus/event-bus.js";
import type {
  CorrelatedPage,
  CorrelatedQuery,
  EventOf,
  HistoryPage,
  HistoryQuery,
  PastState,
  StateOf,
} from "../history/history-types.js";
import type { PurgeListener } from "../history/purge.js";
import type { TransportServer } from "../messaging/server.js";
import type { ProjectionQuery } from "../projections/projection-queries.js";
import { type ProjectionsControl, type ReadSide, validateProjections } from "../projections/read-side.js";
import type { SiloReminders } from "../reminders/silo-reminders.js";
import { createDefaultLogger } from "../telemetry/logger.js";
import { registerTransportGauges } from "../telemetry/transport-metrics.js";
import type { Stores } from "./default-stores.js";
import { handleSignals } from "./signal-handlers.js";
import type { SiloCallGate } from "./silo-call-gate.js";
import { type ClusterParts, openClusterParts, startIncarnation } from "./silo-cluster.js";
import type { SiloForgetting } from "./silo-forgetting.js";
import type { SiloHistory } from "./silo-history.js";
import { startInspectorOf } from "./silo-inspector-links.js";
import { type ListenerLinks, listenCluster, listenStandalone } from "./silo-listeners.js";
import { type ResolvedSiloOptions, resolveSiloOptions, type SiloOptions } from "./silo-options.js";
import { assembleSiloParts, type SiloInputs } from "./silo-parts.js";
import { openSiloStores } from "./silo-stores.js";
import { resolveStandaloneListen } from "./standalone-listen.js";

/** A fenced silo tries to rejoin this long after dropping its activations, and again after each failure. */
const REJOIN_RETRY_MS = 1_000;

/**
 * A silo hosts activations of actors. Standalone (no `redis`): an in-process directory and, with
 * no store given, embedded SQLite in `./.granary/`. With `redis`: it joins the cluster, listens
 * for calls from clients and other silos, and events go to Redis unless a store is given.
 *
 * @example
 * const silo = await Silo.start({ actors: [Account] });
 * await silo.get(Account, "acc-1").deposit(5);
 * await silo.stop();
 */
export class Silo implements ActorRefFactory, TimeTravelRefFactory, CallInvoker {
  readonly defaultTimeoutMs: number;
  #siloId: string;
  #logger: Logger;
  readonly #baseLogger: Logger;
  readonly #options: ResolvedSiloOptions;
  readonly #stores: Stores;
  readonly #cluster: ClusterParts | undefined;
  readonly #onFenced: ((reason: string) => void) | undefined;
  readonly #admissionOptions: ResolvedAdmissionOptions;
  readonly #admission: AdmissionControl;
  readonly #catalog: Catalog;
  readonly #gate: SiloCallGate;
  readonly #history: SiloHistory;
  readonly #forgetting: SiloForgetting;
  readonly #reminders: SiloReminders;
  readonly #readSide: ReadSide;
  /** The operator surface (CLI, inspector): health, activations, and what other subsystems register. */
  readonly admin: SiloAdmin;
  readonly #background = new Set<Promise<unknown>>();
  #collector: TimerHandle | undefined;
  #stopping: Promise<void> | undefined;
  #fenced: string | undefined;
  /** Set while no activation may start here (stopping, fenced): the error callers get. */
  #activationRefusal: (() => Error) | undefined;
  /** A standalone silo's listener for clients, when it was given a port. */
  #listener: TransportServer | undefined;
  #detachTransportGauges: (() => void) | undefined;
  #unhandleSignals: (() => void) | undefined;
  #inspector: { readonly url: string; close(): Promise<void> } | undefined;

  private constructor(inputs: Omit<SiloInputs, "baseLogger">, onFenced: ((reason: string) => void) | undefined) {
    const { options } = inputs;
    this.#options = options;
    this.#stores = inputs.stores;
    this.#cluster = inputs.cluster;
    this.#onFenced = onFenced;
    this.#siloId = options.siloId ?? `silo-${newId()}`;
    this.#baseLogger = options.logger ?? createDefaultLogger(options.logLevel);
    this.#logger = this.#baseLogger.child({ silo: this.#siloId });
    this.defaultTimeoutMs = options.callTimeoutMs;
    this.#admissionOptions = inputs.admission;
    const parts = assembleSiloParts(
      { ...inputs, baseLogger: this.#baseLogger },
      {
        silo: this,
        stopping: () => this.#stopping !== undefined,
        bufferedFrameBytes: () => this.#listener?.bufferedFrameBytes ?? 0,
        refuseNewActivations: () => this.#activationRefusal?.(),
        track: (work) => this.#track(work),
      },
    );
    this.#admission = parts.admission;
    this.#catalog = parts.catalog;
    this.#gate = parts.gate;
    this.#history = parts.history;
    this.#forgetting = parts.forgetting;
    this.#reminders = parts.reminders;
    this.#readSide = parts.readSide;
    this.admin = parts.admin;
  }

  /** Starts a silo. Invalid options fail here, with the option's name and the fix. */
  static async start(options: SiloOptions): Promise<Silo> {
    const resolved = resolveSiloOptions(options);
    const clusterOptions = resolveClusterOptions(options, process.env);
    const admission = resolveAdmissionOptions(options, process.env, clusterOptions?.leaseMs);
    const listen = clusterOptions ? undefined : resolveStandaloneListen(options, process.env);
    // Validate actor classes before opening anything, so bad input never leaves files or connections behind.
    new ActorTypeRegistry(resolved.actors);
    new PersonalDataRules(resolved.actors);
    validateProjections(resolved.projections);
    const bootLogger = resolved.logger ?? createDefaultLogger(resolved.logLevel);
    const cluster = clusterOptions ? await openClusterParts(clusterOptions, bootLogger, !resolved.store) : undefined;
    let silo: Silo | undefined;
    const { stores, shredding, reminders } = await openSiloStores(resolved, cluster, {
      logger: () => silo?.logger ?? bootLogger,
      onForgotten: (subject) => {
        if (silo) void silo.#forgetting.deactivatePersonalData(subject);
      },
    });
    silo = new Silo({ options: resolved, stores, cluster, admission, reminders, shredding }, options.onFenced);
    silo.#admission.start();
    try {
      if (cluster) await silo.#joinCluster(cluster, resolved.errors);
      if (listen) silo.#listener = await listenStandalone(listen, silo.#listenerLinks(resolved.errors));
      const server = silo.#listener ?? cluster?.server;
      if (server) silo.#detachTransportGauges = registerTransportGauges(server);
      await silo.#readSide.start();
    } catch (error) {
      await silo.stop();
      throw error;
    }
    silo.#scheduleCollection();
    if (options.handleSignals ?? true) silo.#unhandleSignals = handleSignals(silo);
    silo.#reminders.start();
    const inspector = resolveSiloInspector(options.inspector, process.env);
    if (inspector) {
      try {
        silo.#inspector = await startInspectorOf(silo, cluster, inspector);
      } catch (error) {
        await silo.stop();
        throw error;
      }
    }
    silo.logger.info(
      {
        actors: resolved.actors.map((a) => a.type),
        store: stores.owned ? resolved.dataDir : cluster?.backends.store ? "redis" : "custom",
        ...(silo.#cluster?.server && silo.address ? { address: formatAddress(silo.address) } : {}),
        ...(silo.#listener ? { address: `${listen?.host}:${silo.#listener.address.port}` } : {}),
        ...(silo.#inspector ? { inspector: silo.#inspector.url } : {}),
      },
      "silo started",
    );
    return silo;
  }

  /**
   * A typed reference to an actor. With `{ asOf: { version } | { time } }` the reference is bound
   * to that past point: its `readOnly` methods answer from the state as it was then (see
   * {@link PastActorRef}).
   */
  get<C extends ActorClass>(type: C, id: string, options: PastCallOptions): PastActorRef<InstanceType<C>, C>;
  get<T extends Actor>(type: ActorClass<T>, id: string, options?: CallOptions): ActorRef<T>;
  get<T extends Actor>(type: ActorClass<T>, id: string, options?: CallOptions | PastCallOptions): ActorRef<T> {
    const asOf = (options as PastCallOptions | undefined)?.asOf;
    if (asOf !== undefined) {
      return createActorRef(this.#history.pastInvoker(asOf), type, id, options);
    }
    return createActorRef(this, type, id, options);
  }

  /** One page of an event-sourced actor's recorded events, with their metadata (see {@link HistoryQuery}). */
  history<T extends Actor>(type: ActorClass<T>, id: string, query?: HistoryQuery): Promise<HistoryPage<EventOf<T>>> {
    return this.#history.history(type.type, id, query) as Promise<HistoryPage<EventOf<T>>>;
  }

  /**
   * Forgets an event-sourced actor (right to be forgotten): wherever it is active in the cluster,
   * its activation is deactivated without a snapshot, its events and snapshots are erased, and a
   * tombstone keeps who asked, when and why. No activation can start until the tombstone exists;
   * afterwards every call, history or stateAt of the actor fails with StreamPurgedError.
   * Idempotent: purging again returns the first tombstone.
   */
  purge<T extends Actor>(type: ActorClass<T>, id: string, request: PurgeRequest): Promise<Tombstone> {
    return this.#history.purge(type?.type, id, request);
  }

  /**
   * Adds a listener for purges executed on this silo (projections need none: they hear of every
   * purge, on whichever silo, through the purge notice in the feed): called after the tombstone is
   * written, the snapshots purged and the notice appended, before the purge resolves. Returns the
   * function that removes it.
   */
  onPurge(listener: PurgeListener): () => void {
    return this.#history.onPurge(listener);
  }

  /** Every event of one correlation across all streams, in commit order: what one request changed. */
  correlated(correlationId: string, query?: CorrelatedQuery): Promise<CorrelatedPage> {
    return this.#history.correlated(correlationId, query);
  }

  /** The actor's state at a past version or time, rebuilt apart from its live activation. */
  stateAt<T extends Actor>(type: ActorClass<T>, id: string, point: PointInTime): Promise<PastState<StateOf<T>>> {
    return this.#history.stateAt(type.type, id, point) as Promise<PastState<StateOf<T>>>;
  }

  /** @internal References for actors' `this.get`, continuing the calling turn's chain. */
  ref<T extends Actor>(
    type: ActorClass<T>,
    id: string,
    options: CallOptions | undefined,
    parent: () => CallContext | undefined,
  ): ActorRef<T> {
    return createActorRef(this, type, id, options, parent);
  }

  /** This silo's identity in logs, membership and the directory (a new one after a rejoin). */
  get siloId(): string {
    return this.#siloId;
  }

  get logger(): Logger {
    return this.#logger;
  }

  /** Number of live activations on this silo. */
  get activationCount(): number {
    return this.#catalog.size;
  }

  /** Keys (`Type/id`) of the actors active on this silo. */
  activeActors(): string[] {
    return [...this.#catalog.activations()].filter((a) => a.state === "active").map((a) => a.key);
  }

  /** The reminders of an actor, by name (operators; the actor is not activated). */
  reminders<T extends Actor>(type: ActorClass<T>, id: string): Promise<ReminderInfo[]> {
    return this.#reminders.list(type.type, id);
  }

  /** Cancels one reminder of an actor (operators); false when there was none. */
  cancelReminder<T extends Actor>(type: ActorClass<T>, id: string, name: string): Promise<boolean> {
    return this.#reminders.cancel(type.type, id, name);
  }

  /** Where clients and other silos reach this silo (cluster mode). */
  get address(): { readonly host: string; readonly port: number } | undefined {
    if (this.#listener) return this.#listener.address;
    const cluster = this.#cluster;
    if (!cluster?.server) return undefined;
    return {
      host: cluster.options.advertisedHost,
      port: cluster.options.advertisedPort ?? cluster.server.address.port,
    };
  }

  /** Where the browser inspector is served, when it is on. */
  get inspectorUrl(): string | undefined {
    return this.#inspector?.url;
  }

  /** Set when this silo fenced itself (lost its membership lease); it no longer serves. */
  get fencedReason(): string | undefined {
    return this.#fenced;
  }

  /**
   * Typed queries of a document projection: `get`, `list` (cursor pages), `count`; with
   * `{ waitForLatest: true }` a query first waits for every event committed before it began.
   * @example
   * await silo.query(SkuStats).get("sku-1", { waitForLatest: true });
   */
  query<C extends DocumentProjectionClass>(cls: C): ProjectionQuery<DocumentOf<C>> {
    return this.#readSide.query(cls);
  }

  /**
   * Live notification of committed events (any silo's) by subject `<namespace>.<ActorType>.<EventType>`,
   * NATS-style `*` and `>`; at most once. Durable consumers are projections.
   * @example
   * const sub = silo.events.subscribe("default.Cart.*", (event) => {}, { actorId: "cart-1" });
   */
  get events(): {
    subscribe(
      pattern: string,
      handler: (event: BusEvent) => void | Promise<void>,
      options?: BusSubscribeOptions,
    ): BusSubscription;
  } {
    const bus = this.#readSide.bus;
    return {
      subscribe: (pattern, handler, options) => {
        if (!bus) throw new ShuttingDownError("the event bus (the event store offers no projection store)");
        return bus.subscribe(pattern, handler, options);
      },
    };
  }

  /** Progress and control of this silo's projections (status with lag, rate and ETA; restart; purge). */
  get projections(): ProjectionsControl {
    return this.#readSide;
  }

  /** Runs one call: used by references, and by the transport for calls from other processes. */
  invoke(request: CallRequest): Promise<unknown> {
    return this.#gate.invoke(request);
  }

  /**
   * Forgets a data subject (crypto-shredding): destroys the subject's key for good, so every
   * personal field encrypted under it reads as the redaction marker `{ $redacted: "forgotten",
   * subject }` from now on, in every read, replay, history and projection feed; the log itself is
   * not changed. Live activations of actor types that declare personal data are deactivated here
   * (and on the other silos that share the key store, when it broadcasts) so none keeps serving the
   * plaintext; their snapshots that involve the subject are invalidated. Idempotent: forgetting
   * again returns the first destruction time. Trusted callers only (code in a silo, clients with the
   * cluster key): authorize the person's request in your application first.
   *
   * @throws InvalidConfigurationError when no actor declares personal data and no keyStore was given
   * @throws InvalidArgumentError for an empty subject id
   */
  forget(subject: string): Promise<ForgetResult> {
    return this.#forgetting.forget(subject);
  }

  /** Deactivates activations idle for `idleTimeoutMs` now, instead of waiting for the next sweep. */
  collectIdle(): number {
    return this.#catalog.collectIdle(this.#options.clock.now(), this.#options.idleTimeoutMs);
  }

  /**
   * Graceful stop: no new activations, every accepted call finishes, then onDeactivate, snapshot and
   * unregister for each activation; then it leaves the cluster and closes what it opened. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#collector) this.#options.clock.clearTimeout(this.#collector);
    // Ticks in flight end and partitions are handed over before the actors they call go away.
    await this.#reminders.stop().catch((error: unknown) => {
      this.logger.warn({ err: messageOf(error) }, "stopping the reminder service failed");
    });
    await this.#inspector?.close();
    this.#activationRefusal = () => new ShuttingDownError(`silo ${this.siloId}`);
    await this.#readSide.stop();
    await this.#catalog.deactivateAll("shutdown");
    await Promise.allSettled(this.#background);
    await this.#listener?.close();
    this.#detachTransportGauges?.();
    const cluster = this.#cluster;
    if (cluster) {
      // Leave only after every actor is unregistered, so nobody takes over an actor still draining here.
      await cluster.agent?.stop();
      await cluster.server?.close();
      await cluster.pool?.close();
    }
    this.#gate.stop();
    this.#admission.stop();
    if (this.#stores.owned) {
      await this.#stores.store.close();
      await this.#stores.snapshots.close();
    }
    await this.#forgetting.close();
    if (cluster?.ownsBackends) await cluster.backends.close();
    this.#unhandleSignals?.();
    this.logger.info("silo stopped");
  }

  #listenerLinks(errors: readonly ErrorClass[]): ListenerLinks {
    return { siloId: this.siloId, logger: this.logger, errors, admission: this.#admissionOptions, gate: this.#gate };
  }

  async #joinCluster(cluster: ClusterParts, errors: readonly ErrorClass[]): Promise<void> {
    await listenCluster(cluster, { ...this.#listenerLinks(errors), history: this.#history, admin: this.admin });
    await this.#startIncarnation(cluster);
  }

  #startIncarnation(cluster: ClusterParts): Promise<void> {
    return startIncarnation(cluster, {
      siloId: this.siloId,
      clock: this.#options.clock,
      logger: this.logger,
      routing: this.#gate.routing,
      catalog: this.#catalog,
      lookupSlots: this.#admission.lookupSlots,
      stopping: () => this.#stopping !== undefined,
      onFenced: (reason) => this.#fence(reason),
    });
  }

  #fence(reason: string): void {
    this.#fenced = reason;
    void this.#readSide.fence();
    this.#activationRefusal = () => new ShuttingDownError(`silo ${this.siloId} (fenced)`);
    // Drop every activation without snapshot or onDeactivate: another silo may own them by now.
    const dropped = this.#catalog.deactivateAll("lost-ownership").catch((error: unknown) => {
      this.logger.error({ err: messageOf(error) }, "dropping activations after fencing failed");
    });
    if (this.#onFenced) this.#onFenced(reason);
    void dropped.then(() => this.#scheduleRejoin());
  }

  /**
   * After fencing, the silo joins again under a new identity once membership is reachable: its old
   * identity's directory entries die with the old lease, so nothing it owned before can be mistaken
   * for something it owns now.
   */
  #scheduleRejoin(): void {
    const cluster = this.#cluster;
    if (!cluster || this.#stopping) return;
    this.#options.clock.setTimeout(() => {
      if (this.#stopping) return;
      const previous = this.siloId;
      this.#siloId = `silo-${newId()}`;
      this.#logger = this.#baseLogger.child({ silo: this.#siloId });
      this.#startIncarnation(cluster).then(
        () => {
          this.#fenced = undefined;
          this.#activationRefusal = undefined;
          this.logger.warn({ previous }, "rejoined the cluster under a new identity after fencing");
        },
        (error: unknown) => {
          this.logger.warn({ err: messageOf(error) }, "rejoining the cluster failed; retrying");
          this.#scheduleRejoin();
        },
      );
    }, REJOIN_RETRY_MS);
  }

  #scheduleCollection(): void {
    this.#collector = this.#options.clock.setTimeout(() => {
      this.collectIdle();
      if (!this.#stopping) this.#scheduleCollection();
    }, this.#options.collectionIntervalMs);
  }

  #track(work: Promise<unknown>): void {
    this.#background.add(work);
    void work.finally(() => this.#background.delete(work));
  }
}
