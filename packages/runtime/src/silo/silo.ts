import {
  type Actor,
  type ActorClass,
  type ActorRef,
  type ActorRefFactory,
  assertSubject,
  type CallOptions,
  type Directory,
  type DocumentOf,
  type DocumentProjectionClass,
  type ErrorClass,
  formatAddress,
  InvalidConfigurationError,
  messageOf,
  type PastActorRef,
  type PastCallOptions,
  type PointInTime,
  type PurgeRequest,
  type ReminderInfo,
  type ReminderStore,
  ShuttingDownError,
  type TimerHandle,
  type TimeTravelRefFactory,
  type Tombstone,
  UnknownMethodError,
} from "@granary/core";
import type { InspectorOptions } from "@granary/inspector";
import type { Logger } from "pino";
import type { ActivationServices } from "../activation/activation-services.js";
import { ActorTypeRegistry } from "../activation/actor-type-info.js";
import { isAdminFrame, parseAdminFrame } from "../admin/admin-frame.js";
import { registerHistoryAdmin } from "../admin/history-admin.js";
import { stringArg } from "../admin/operator-requests.js";
import { SiloAdmin } from "../admin/silo-admin.js";
import { resolveSiloInspector, startSiloInspector } from "../admin/silo-inspector.js";
import { AdmissionControl } from "../admission/admission-control.js";
import { type ResolvedAdmissionOptions, resolveAdmissionOptions } from "../admission/admission-options.js";
import { type CallInvoker, createActorRef } from "../calls/actor-proxy.js";
import { type CallContext, type CallRequest, childContext, newId } from "../calls/call-context.js";
import { AnsweredCallRecord, type CallAnswer, type CallRecord, PromiseCallRecord } from "../calls/call-record.js";
import { type CallFrame, hopsOf, parseCallRequest } from "../calls/call-wire.js";
import { DeadlineTracker } from "../calls/deadlines.js";
import { Catalog } from "../catalog/catalog.js";
import { clientCallRefusal } from "../cluster/call-trust.js";
import { resolveClusterOptions } from "../cluster/cluster-options.js";
import { RoutingCounters } from "../cluster/routing-counters.js";
import { DATA_SUBJECT_TYPE, type ForgetResult } from "../crypto/data-subject.js";
import { PersonalDataRules } from "../crypto/personal-data-rules.js";
import type { Shredding } from "../crypto/shredding.js";
import { StandaloneDirectory } from "../directory/standalone-directory.js";
import type { BusEvent, BusSubscribeOptions, BusSubscription } from "../events-bus/event-bus.js";
import { answerHistoryRequest, localPastInvoker } from "../history/history-requests.js";
import { HistoryService } from "../history/history-service.js";
import type {
  CorrelatedPage,
  CorrelatedQuery,
  EventOf,
  HistoryPage,
  HistoryQuery,
  PastState,
  StateOf,
} from "../history/history-types.js";
import { isHistoryMessage, parseHistoryMessage } from "../history/history-wire.js";
import { PURGE_METHOD, PurgeCoordinator, type PurgeListener, validatePurgeRequest } from "../history/purge.js";
import { REPLY_LATER } from "../messaging/connection-types.js";
import { ConnectionPool } from "../messaging/pool.js";
import { listenTransport, type TransportServer } from "../messaging/server.js";
import { PeerRole } from "../messaging/transport-options.js";
import type { ProjectionQuery } from "../projections/projection-queries.js";
import { type ProjectionsControl, ReadSide, validateProjections } from "../projections/read-side.js";
import { SYSTEM_TYPE_PREFIX } from "../projections/system-calls.js";
import { SiloReminders } from "../reminders/silo-reminders.js";
import { startCallSpan, tracingEnabled } from "../telemetry/call-tracing.js";
import { createDefaultLogger } from "../telemetry/logger.js";
import { createSiloTelemetry, type SiloTelemetry } from "../telemetry/silo-telemetry.js";
import { registerTransportGauges } from "../telemetry/transport-metrics.js";
import type { Stores } from "./default-stores.js";
import { handleSignals } from "./signal-handlers.js";
import { type ClusterParts, openClusterParts, startIncarnation } from "./silo-cluster.js";
import { type ResolvedSiloOptions, resolveSiloOptions, type SiloOptions } from "./silo-options.js";
import { openSiloStores } from "./silo-stores.js";
import { type ResolvedStandaloneListen, resolveStandaloneListen } from "./standalone-listen.js";

/** A fenced silo tries to rejoin this long after dropping its activations, and again after each failure. */
const REJOIN_RETRY_MS = 1_000;
/**
 * How long a purge waits for the projections on its silo to apply its notice: short, so a purge is
 * not held up (past its caller's timeout) by a projection that is rebuilding far behind the head.
 */
const LOCAL_PURGE_WAIT_MS = 5_000;

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
  readonly #catalog: Catalog;
  readonly #history: HistoryService;
  readonly #purger: PurgeCoordinator;
  readonly #deadlines: DeadlineTracker;
  readonly #telemetry: SiloTelemetry;
  readonly #background = new Set<Promise<unknown>>();
  readonly #cluster: ClusterParts | undefined;
  readonly #reminders: SiloReminders;
  #collector: TimerHandle | undefined;
  #stopping: Promise<void> | undefined;
  #fenced: string | undefined;
  readonly #onFenced: ((reason: string) => void) | undefined;
  #shredding: Shredding | undefined;
  readonly #admission: AdmissionControl;
  /** A standalone silo's listener for clients, when it was given a port. */
  #listener: TransportServer | undefined;
  #detachTransportGauges: (() => void) | undefined;
  /** Bounds of the listener on incomplete frames (admission options). */
  readonly #frameLimits: { readonly maxBufferedFrameBytes: number; readonly partialFrameTimeoutMs: number };
  #unhandleSignals: (() => void) | undefined;
  readonly #startedAt: number;
  #callsTotal = 0;
  readonly #routing = new RoutingCounters();
  #inspector: { readonly url: string; close(): Promise<void> } | undefined;
  /** The operator surface (CLI, inspector): health, activations, and what other subsystems register. */
  readonly admin: SiloAdmin;
  readonly #readSide: ReadSide;

  private constructor(
    options: ResolvedSiloOptions,
    stores: Stores,
    cluster: ClusterParts | undefined,
    onFenced: ((reason: string) => void) | undefined,
    admission: ResolvedAdmissionOptions,
    reminders: { readonly store: ReminderStore; readonly owned: boolean },
  ) {
    this.#options = options;
    this.#stores = stores;
    this.#cluster = cluster;
    this.#onFenced = onFenced;
    this.#siloId = options.siloId ?? `silo-${newId()}`;
    this.#baseLogger = options.logger ?? createDefaultLogger(options.logLevel);
    this.#logger = this.#baseLogger.child({ silo: this.#siloId });
    this.defaultTimeoutMs = options.callTimeoutMs;
    this.#telemetry = createSiloTelemetry();
    this.#deadlines = new DeadlineTracker(options.clock);
    this.#frameLimits = {
      maxBufferedFrameBytes: admission.maxBufferedFrameBytes,
      partialFrameTimeoutMs: admission.partialFrameTimeoutMs,
    };
    this.#admission = new AdmissionControl(
      admission,
      () => this.#siloId,
      () => this.#logger,
    );
    const directory: Directory =
      cluster?.backends.directory ??
      options.directory ??
      new StandaloneDirectory(stores.store, () => options.clock.now());
    const silo = this;
    this.#reminders = new SiloReminders({
      ...reminders,
      directory: cluster?.backends.directory ?? options.directory,
      clock: options.clock,
      logger: () => this.#logger,
      siloId: () => this.#siloId,
      liveSilos: () => this.#cluster?.agent?.liveSiloIds() ?? [this.#siloId],
      canFire: () => !this.#fenced && (this.#cluster?.agent?.leaseValid() ?? true),
      invoke: (request) => this.invoke(request),
      service: options.reminderService,
    });
    const services: ActivationServices = {
      // Getters: a silo that fenced itself rejoins under a new identity.
      get siloId() {
        return silo.#siloId;
      },
      store: stores.store,
      snapshots: stores.snapshots,
      directory,
      clock: options.clock,
      get logger() {
        return silo.#logger;
      },
      telemetry: this.#telemetry,
      freezeState: options.freezeState,
      refs: this,
      canCommit: () => this.#cluster?.agent?.leaseValid() ?? true,
      activationSlots: this.#admission.activationSlots,
      reminders: this.#reminders.registry,
      background: (work) => this.#track(work),
    };
    const registry = new ActorTypeRegistry(options.actors);
    this.#catalog = new Catalog(registry, services);
    this.#history = new HistoryService(registry, services);
    this.#purger = new PurgeCoordinator(services);
    this.#catalog.purger = this.#purger;
    this.#startedAt = options.clock.now();
    this.admin = new SiloAdmin(() => ({
      siloId: this.#siloId,
      address: this.address ? formatAddress(this.address) : undefined,
      startedAt: this.#startedAt,
      now: () => options.clock.now(),
      callsTotal: this.#callsTotal,
      routing: this.#routing,
      status: this.#fenced ? "fenced" : this.#stopping ? "stopping" : "serving",
      fencedReason: this.#fenced,
      catalog: this.#catalog,
      admission: this.#admission,
      bufferedFrameBytes: this.#listener?.bufferedFrameBytes ?? 0,
    }));
    registerHistoryAdmin(this.admin, {
      history: this.#history,
      purge: (actorType, actorId, request) => this.#purge(actorType, actorId, request),
    });
    this.#readSide = new ReadSide({
      projections: options.projections,
      events: stores.store,
      projectionStore: options.projectionStore,
      // Standalone (undefined): the read side issues epochs above those its checkpoints hold.
      directory: cluster?.backends.directory ?? options.directory,
      siloId: () => this.#siloId,
      canRun: () => !this.#fenced && !this.#stopping && (this.#cluster?.agent?.leaseValid() ?? true),
      clustered: cluster !== undefined || options.directory !== undefined,
      logger: this.#baseLogger,
      callTimeoutMs: options.callTimeoutMs,
      settings: options.readSide,
      clock: options.clock,
    });
    // Every projection hears of a purge through the notice in the feed; the purge waits (briefly)
    // for those running here, so a query on this silo right after the purge no longer sees it.
    this.#purger.listen(({ noticePosition }) => this.#readSide.applied(noticePosition, LOCAL_PURGE_WAIT_MS));
    // Purging a stream cancels its reminders: nothing may wake a forgotten actor.
    this.#purger.listen(async ({ tombstone }) => {
      await this.#reminders.registry.cancelAll(tombstone.stream);
    });
    this.admin.register("projections", () => this.#readSide.status());
    this.admin.register("reminders", (args) => this.#reminders.list(stringArg(args, "type"), stringArg(args, "id")));
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
        if (silo) void silo.#deactivatePersonalData(subject);
      },
    });
    silo = new Silo(resolved, stores, cluster, options.onFenced, admission, reminders);
    silo.#shredding = shredding;
    silo.#admission.start();
    try {
      if (cluster) await silo.#joinCluster(cluster, resolved.errors);
      if (listen) await silo.#listenStandalone(listen, resolved.errors);
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
        silo.#inspector = await silo.#startInspector(inspector);
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
      return createActorRef(localPastInvoker(this.#history, asOf, this.defaultTimeoutMs), type, id, options);
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
    return this.#purge(type?.type, id, request);
  }

  #purge(actorType: string, id: string, request: PurgeRequest): Promise<Tombstone> {
    try {
      validatePurgeRequest(request, `${actorType}/${id}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.invoke({
      actorType,
      actorId: id,
      method: PURGE_METHOD,
      args: [{ reason: request.reason, requestedBy: request.requestedBy }],
      context: childContext(undefined, {}),
      timeoutMs: this.defaultTimeoutMs,
    }) as Promise<Tombstone>;
  }

  /**
   * Adds a listener for purges executed on this silo (projections need none: they hear of every
   * purge, on whichever silo, through the purge notice in the feed): called after the tombstone is
   * written, the snapshots purged and the notice appended, before the purge resolves. Returns the
   * function that removes it.
   */
  onPurge(listener: PurgeListener): () => void {
    return this.#purger.listen(listener);
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

  #startInspector(options: InspectorOptions): Promise<{ readonly url: string; close(): Promise<void> }> {
    const selfAddress = () => (this.address ? formatAddress(this.address) : undefined);
    const cluster = this.#cluster;
    return startSiloInspector(
      {
        admin: this.admin,
        selfAddress,
        members: cluster ? async () => (await cluster.backends.membership.liveMembers()).map(formatAddress) : undefined,
        remote: cluster
          ? (address, payload, timeoutMs) => {
              const pool = cluster.pool;
              if (!pool) return Promise.reject(new ShuttingDownError(`silo ${this.siloId}`));
              return pool.request(address, payload, { timeoutMs });
            }
          : undefined,
      },
      options,
      this.#siloId,
    );
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
    return this.#invoke(request, 0, true);
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
  async forget(subject: string): Promise<ForgetResult> {
    const shredding = this.#shredding;
    if (!shredding) {
      throw new InvalidConfigurationError(
        "keyStore",
        "no actor class declares personalData and no keyStore was given, so this silo holds no keys to destroy",
      );
    }
    assertSubject(subject);
    const result = await shredding.keys.destroy(subject);
    this.logger.info({ subject, destroyedAt: result.destroyedAt }, "data subject forgotten: its key is destroyed");
    await this.#deactivatePersonalData(subject);
    return result;
  }

  /** Deactivates live activations of actor types that declare personal data (which ones hold the subject is not tracked). */
  async #deactivatePersonalData(subject: string): Promise<void> {
    const rules = this.#shredding?.rules;
    if (!rules) return;
    const affected = [...this.#catalog.activations()].filter((a) => rules.declares(a.info.type));
    if (affected.length === 0) return;
    this.logger.debug(
      { subject, activations: affected.length },
      "deactivating personal-data activations after a forget",
    );
    await Promise.all(
      affected.map(async (activation) => {
        await activation.deactivate("idle");
        // Loading through the sealing store deletes a snapshot that involves a forgotten subject.
        await this.#stores.snapshots.load(activation.key).catch((error: unknown) => {
          this.logger.warn({ actor: activation.key, err: messageOf(error) }, "snapshot check after a forget failed");
        });
      }),
    );
  }

  /** A call to the built-in DataSubject address: answered by this silo, never routed to an activation. */
  async #dataSubjectCall(request: CallRequest): Promise<ForgetResult> {
    if (request.method !== "forget") throw new UnknownMethodError(DATA_SUBJECT_TYPE, request.method);
    const userId = request.context.userId;
    this.logger.info({ subject: request.actorId, ...(userId === undefined ? {} : { userId }) }, "forget requested");
    return this.forget(request.actorId);
  }

  #invoke(request: CallRequest, hops: number, external: boolean): Promise<unknown> {
    const refusal = this.#refusal(request, external, 0, true);
    if (refusal) return Promise.reject(refusal);
    if (request.actorType === DATA_SUBJECT_TYPE) return this.#dataSubjectCall(request);
    const traced = tracingEnabled() ? startCallSpan(this.#telemetry.tracer, request) : request;
    const record = new PromiseCallRecord(traced, this.#deadlines, traced.span, this.#settled);
    try {
      this.#route(record, hops);
    } catch (error) {
      record.reject(error);
    }
    return record.promise;
  }

  /**
   * Like #invoke for a call from another process: answered through `answer`, no promise.
   * @param connectionInFlight requests being handled on the connection it came on, itself included
   * @param fromClient a client sent it (else another silo, or a standalone silo's listener)
   */
  #accept(
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
    if (request.actorType === DATA_SUBJECT_TYPE) {
      this.#dataSubjectCall(request).then(
        (value) => answer.resolve(value),
        (error: unknown) => answer.reject(error),
      );
      return;
    }
    if (request.actorType.startsWith(SYSTEM_TYPE_PREFIX)) {
      this.#readSide.answer(request).then(
        (value) => answer.resolve(value),
        (error: unknown) => answer.reject(error),
      );
      return;
    }
    const admin = this.#reminders.answerAdmin(request);
    if (admin) {
      admin.then(
        (value) => answer.resolve(value),
        (error: unknown) => answer.reject(error),
      );
      return;
    }
    const traced = tracingEnabled() ? startCallSpan(this.#telemetry.tracer, request) : request;
    const record = new AnsweredCallRecord(traced, answer, this.#deadlines, traced.span, this.#settled);
    if (fromClient) {
      record.fromClient = true;
      this.#routing.clientCalls++;
    } else if (hops > 0) {
      this.#routing.callsFromSilos++;
    }
    this.#route(record, hops);
  }

  /**
   * Why a call is refused at the door (nothing ran), or undefined when it is admitted: then it
   * counts as in flight until its record settles.
   * @param local the caller holds a reference of this silo: it has no other silo to retry on
   */
  #refusal(request: CallRequest, external: boolean, connectionInFlight: number, local: boolean): Error | undefined {
    if (this.#fenced) return new ShuttingDownError(`silo ${this.siloId} (fenced: ${this.#fenced})`);
    // A stopping silo refuses calls from outside (they retry elsewhere) but serves calls of running
    // chains and calls for actors it is still draining.
    if (
      this.#stopping &&
      external &&
      request.context.chain.length === 1 &&
      !this.#catalog.find(request.actorType, request.actorId)
    ) {
      // Remote callers retry on another silo; a local caller would only meet this silo again.
      return new ShuttingDownError(`silo ${this.siloId}`, { retryable: !local });
    }
    return this.#admission.admit(request, connectionInFlight);
  }

  #route(record: CallRecord, hops: number): void {
    this.#callsTotal++;
    const router = this.#cluster?.router;
    if (router) router.routeCall(record, hops, hops > 0);
    else this.#catalog.dispatchCall(record);
  }

  readonly #settled = (record: CallRecord): void => {
    this.#admission.done();
    if (!this.#telemetry.metricsOn) return;
    this.#telemetry.callLatency.record(this.#options.clock.now() - (record.deadline - record.request.timeoutMs), {
      actor_type: record.request.actorType,
    });
  };

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
    this.#catalog.refuseNewActivations = () => new ShuttingDownError(`silo ${this.siloId}`);
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
    this.#deadlines.stop();
    this.#admission.stop();
    if (this.#stores.owned) {
      await this.#stores.store.close();
      await this.#stores.snapshots.close();
    }
    await this.#shredding?.close();
    if (cluster?.ownsBackends) await cluster.backends.close();
    this.#unhandleSignals?.();
    this.logger.info("silo stopped");
  }

  /** A standalone silo serves clients over TCP: calls go straight to the catalog (no router). */
  async #listenStandalone(listen: ResolvedStandaloneListen, errors: readonly ErrorClass[]): Promise<void> {
    this.#listener = await listenTransport({
      ...(listen.clusterKey === undefined ? {} : { clusterKey: listen.clusterKey }),
      allowUnauthenticated: listen.allowUnauthenticated,
      ...this.#frameLimits,
      id: this.siloId,
      role: PeerRole.Silo,
      logger: this.logger.child({ component: "transport" }),
      errorClasses: new Map(errors.map((cls) => [cls.name, cls])),
      host: listen.host,
      port: listen.port,
      tls: listen.tls?.server,
      onRequest: (payload, from, reply) => {
        this.#accept(parseCallRequest(payload), 0, true, reply, from.requestsBeingHandled, true);
        return REPLY_LATER;
      },
    });
  }

  async #joinCluster(cluster: ClusterParts, errors: readonly ErrorClass[]): Promise<void> {
    const { options } = cluster;
    const errorClasses = new Map(errors.map((cls) => [cls.name, cls]));
    const transport = {
      ...(options.clusterKey === undefined ? {} : { clusterKey: options.clusterKey }),
      allowUnauthenticated: options.allowUnauthenticated,
      ...this.#frameLimits,
      id: this.siloId,
      role: PeerRole.Silo,
      logger: this.logger.child({ component: "transport" }),
      errorClasses,
    };
    cluster.server = await listenTransport({
      ...transport,
      host: options.host,
      port: options.port,
      tls: options.tls?.server,
      onRequest: (payload, from, reply) => {
        if (isHistoryMessage(payload)) return answerHistoryRequest(this.#history, parseHistoryMessage(payload));
        if (isAdminFrame(payload)) {
          const { op, args } = parseAdminFrame(payload);
          return this.admin.handle(op, args);
        }
        const request = parseCallRequest(payload);
        const hops = hopsOf(payload as CallFrame);
        const fromSilo = from.peer.role === PeerRole.Silo;
        const untrusted = fromSilo ? undefined : clientCallRefusal(request);
        if (untrusted) throw untrusted;
        // Calls from clients enter here at hop 0; calls forwarded by silos carry their hop count.
        this.#accept(
          request,
          fromSilo ? hops : 0,
          !fromSilo || hops === 0,
          reply,
          from.requestsBeingHandled,
          !fromSilo,
        );
        return REPLY_LATER;
      },
    });
    cluster.pool = new ConnectionPool({ ...transport, tls: options.tls?.client });
    this.#catalog.onNotOwner = (calls) => {
      for (const call of calls) {
        const router = this.#cluster?.router;
        if (!router) call.reject(new ShuttingDownError(`silo ${this.siloId}`));
        else router.reroute(call);
      }
    };
    await this.#startIncarnation(cluster);
  }

  #startIncarnation(cluster: ClusterParts): Promise<void> {
    return startIncarnation(cluster, {
      siloId: this.siloId,
      clock: this.#options.clock,
      logger: this.logger,
      routing: this.#routing,
      catalog: this.#catalog,
      lookupSlots: this.#admission.lookupSlots,
      stopping: () => this.#stopping !== undefined,
      onFenced: (reason) => this.#fence(reason),
    });
  }

  #fence(reason: string): void {
    this.#fenced = reason;
    void this.#readSide.fence();
    this.#catalog.refuseNewActivations = () => new ShuttingDownError(`silo ${this.siloId} (fenced)`);
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
          this.#catalog.refuseNewActivations = undefined;
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
