import {
  type Actor,
  type ActorClass,
  type ActorRef,
  type ActorRefFactory,
  type CallOptions,
  CallTimeoutError,
  type Clock,
  type DocumentOf,
  type DocumentProjectionClass,
  delay,
  ErrorCode,
  formatAddress,
  isGranaryError,
  type MemberInfo,
  type Membership,
  messageOf,
  NoSiloAvailableError,
  type PastActorRef,
  type PastCallOptions,
  type PointInTime,
  type PurgeRequest,
  type ReminderInfo,
  ShuttingDownError,
  streamOf,
  type TimerHandle,
  type TimeTravelRefFactory,
  type Tombstone,
} from "@granary/core";
import { type Logger, pino } from "pino";
import { OperatorClient } from "../admin/operator-client.js";
import { type CallInvoker, createActorRef } from "../calls/actor-proxy.js";
import { type CallRequest, childContext } from "../calls/call-context.js";
import { callMessage } from "../calls/call-wire.js";
import { outcomeUnknown } from "../calls/idempotency.js";
import { provablyNotExecuted } from "../calls/retry-rules.js";
import { DataSubject, type ForgetResult } from "../crypto/data-subject.js";
import type { BusEvent, BusSubscribeOptions, BusSubscription } from "../events-bus/event-bus.js";
import { pointToWire, resolvePointInTime } from "../history/history-options.js";
import type {
  CorrelatedPage,
  CorrelatedQuery,
  EventOf,
  HistoryPage,
  HistoryQuery,
  PastState,
  StateOf,
} from "../history/history-types.js";
import { HistoryOp, historyMessage } from "../history/history-wire.js";
import { PURGE_METHOD, validatePurgeRequest } from "../history/purge.js";
import type { RequestOptions, ResponseSink } from "../messaging/connection-types.js";
import { ConnectionPool } from "../messaging/pool.js";
import { PeerRole } from "../messaging/transport-options.js";
import { loadOptionalPackage } from "../options/optional-package.js";
import type { ProjectionQuery } from "../projections/projection-queries.js";
import { SYSTEM_TYPE_PREFIX } from "../projections/system-calls.js";
import { ReminderAdmin } from "../reminders/silo-reminders.js";
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from "./client-options.js";
import { clientQuery, clientSubscribe, type GatewayInvoker } from "./client-read-side.js";
import { OwnerCache } from "./owner-cache.js";

/** Retries a refused first attempt: set by Client, which keeps the retry logic private. */
let afterRefusal: (client: Client, call: GatewayCall, error: unknown) => Promise<unknown>;
/** Notes where a call ran (or that its cached owner failed it): set by Client. */
let ranAt: (client: Client, call: GatewayCall, ownerHint: string | undefined) => void;
let ownerFailed: (client: Client, call: GatewayCall) => void;

/** How a client's calls were routed since it connected (the silos count the other side: `SiloInfo.routing`). */
export interface ClientRouting {
  /** Actor calls sent (first attempts). */
  readonly callsSent: number;
  /** Of those, the calls sent straight to the silo known to own the actor. */
  readonly callsToKnownOwner: number;
  /** Actors whose owner the client knows now (at most `ownerCacheSize`). */
  readonly ownersKnown: number;
}

/**
 * Calls actors of a cluster from outside it (a web server, a script): `client.get(Account, id)`
 * gives the same typed reference as inside a silo. A call goes to the silo that owns its actor when
 * the client knows it (every reply says where the call ran, or the silo it was sent to ran it),
 * else to the next gateway in turn, which forwards it to the owner. The silo that receives a call
 * checks ownership itself, so what the client knows is only a shortcut. When a gateway dies the
 * client moves to another; it retries only calls that provably did not execute (refused by a
 * leaving silo, or a connection that never opened).
 *
 * @example
 * const client = await Client.connect({ redis: "redis://127.0.0.1:6379", clusterKey });
 * await client.get(Account, "acc-1").deposit(5);
 * await client.close();
 */
export class Client implements ActorRefFactory, TimeTravelRefFactory, CallInvoker {
  readonly defaultTimeoutMs: number;
  readonly #pool: ConnectionPool;
  readonly #logger: Logger;
  readonly #membership: Membership | undefined;
  readonly #ownsMembership: boolean;
  readonly #clock: Clock;
  readonly #refreshIntervalMs: number;
  #gateways: string[];
  /** The same addresses as #gateways: an owner hint is used only while its silo is one of them. */
  #gatewaySet: Set<string>;
  readonly #owners: OwnerCache;
  #callsSent = 0;
  #callsToKnownOwner = 0;
  #members: MemberInfo[] = [];
  #next = 0;
  #lastOptions: RequestOptions | undefined;
  #refresher: TimerHandle | undefined;
  /** Why the last membership refresh failed (cleared by the next success), for NO_SILO_AVAILABLE. */
  #membershipError: unknown;
  #closed = false;
  #operator: OperatorClient | undefined;

  private constructor(options: ResolvedClientOptions, membership: Membership | undefined, ownsMembership: boolean) {
    this.#membership = membership;
    this.#ownsMembership = ownsMembership;
    this.#logger = options.logger ?? pino({ level: "silent" });
    this.defaultTimeoutMs = options.callTimeoutMs;
    this.#clock = options.clock;
    this.#refreshIntervalMs = options.refreshIntervalMs;
    this.#gateways = [...options.gateways];
    this.#gatewaySet = new Set(this.#gateways);
    this.#owners = new OwnerCache(options.ownerCacheSize);
    this.#pool = new ConnectionPool({
      ...(options.clusterKey === undefined ? {} : { clusterKey: options.clusterKey }),
      allowUnauthenticated: options.allowUnauthenticated,
      role: PeerRole.Client,
      logger: this.#logger,
      errorClasses: new Map(options.errors.map((cls) => [cls.name, cls])),
      tls: options.tls,
    });
  }

  static async connect(options: ClientOptions): Promise<Client> {
    const resolved = resolveClientOptions(options);
    let membership = resolved.membership;
    let owns = false;
    if (!membership && resolved.redis) {
      const { RedisMembership } = await loadOptionalPackage(
        () => import("@granary/redis"),
        "@granary/redis",
        "redis",
        "pass `gateways` or an injected `membership` instead of a Redis URL",
      );
      membership = new RedisMembership({ redis: resolved.redis, cluster: resolved.clusterName });
      owns = true;
    }
    const client = new Client(resolved, membership, owns);
    if (membership) {
      await client.#refreshGateways();
      client.#scheduleRefresh();
    }
    return client;
  }

  #scheduleRefresh(): void {
    if (this.#closed) return;
    this.#refresher = this.#clock.setTimeout(() => {
      this.#scheduleRefresh();
      void this.#refreshGateways();
    }, this.#refreshIntervalMs);
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
    if (asOf === undefined) return createActorRef(this, type, id, options);
    resolvePointInTime(asOf, "asOf");
    const point = pointToWire(asOf);
    const invoker: CallInvoker = {
      defaultTimeoutMs: this.defaultTimeoutMs,
      invoke: (request) =>
        this.#send(
          historyMessage(HistoryOp.AsOf, request.actorType, request.actorId, {
            asOf: point,
            method: request.method,
            args: request.args,
          }),
          request.timeoutMs,
          `${request.actorType}/${request.actorId}`,
          request.method,
        ),
    };
    return createActorRef(invoker, type, id, options);
  }

  /** One page of an event-sourced actor's recorded events, with their metadata (see {@link HistoryQuery}). */
  history<T extends Actor>(
    type: ActorClass<T>,
    id: string,
    query: HistoryQuery = {},
  ): Promise<HistoryPage<EventOf<T>>> {
    const wire = { ...query };
    if (query.from instanceof Date) wire.from = query.from.toISOString();
    if (query.to instanceof Date) wire.to = query.to.toISOString();
    return this.#send(
      historyMessage(HistoryOp.History, type.type, id, { query: wire }),
      this.defaultTimeoutMs,
      `${type.type}/${id}`,
      "history",
    ) as Promise<HistoryPage<EventOf<T>>>;
  }

  /**
   * Forgets an event-sourced actor (right to be forgotten): routed like a call to wherever the actor
   * is active, which deactivates it without a snapshot and erases its events and snapshots; a
   * tombstone keeps who asked, when and why (see Silo.purge).
   */
  purge<T extends Actor>(type: ActorClass<T>, id: string, request: PurgeRequest): Promise<Tombstone> {
    try {
      validatePurgeRequest(request, `${type?.type}/${id}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.invoke({
      actorType: type.type,
      actorId: id,
      method: PURGE_METHOD,
      args: [{ reason: request.reason, requestedBy: request.requestedBy }],
      context: childContext(undefined, {}),
      timeoutMs: this.defaultTimeoutMs,
    }) as Promise<Tombstone>;
  }

  /** Every event of one correlation across all streams, in commit order: what one request changed. */
  correlated(correlationId: string, query: CorrelatedQuery = {}): Promise<CorrelatedPage> {
    return this.#send(
      historyMessage(HistoryOp.Correlated, "", "", { correlationId, query }),
      this.defaultTimeoutMs,
      `correlation ${correlationId}`,
      "correlated",
    ) as Promise<CorrelatedPage>;
  }

  /** The actor's state at a past version or time, rebuilt on a silo apart from its live activation. */
  stateAt<T extends Actor>(type: ActorClass<T>, id: string, point: PointInTime): Promise<PastState<StateOf<T>>> {
    resolvePointInTime(point, "stateAt");
    return this.#send(
      historyMessage(HistoryOp.StateAt, type.type, id, { point: pointToWire(point) }),
      this.defaultTimeoutMs,
      `${type.type}/${id}`,
      "stateAt",
    ) as Promise<PastState<StateOf<T>>>;
  }

  /** Sends a request that is not an actor call to a gateway, retrying where it provably did not run. */
  async #send(frame: unknown[], timeoutMs: number, actor: string, what: string): Promise<unknown> {
    const deadline = this.#clock.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new ShuttingDownError("client");
      const remaining = deadline - this.#clock.now();
      if (remaining <= 0) throw new CallTimeoutError(actor, what, timeoutMs);
      const gateway = this.#pick();
      if (gateway === undefined) {
        await this.#refreshGateways();
        if (this.#gateways.length === 0) {
          if (attempt > 20) throw this.#noSilo(undefined);
          await delay(this.#clock, Math.min(100 * (attempt + 1), remaining));
        }
        continue;
      }
      try {
        return await this.#pool.request(gateway, frame, { timeoutMs: remaining, timeoutError: gatewayTimeout });
      } catch (error) {
        if (error instanceof GatewayTimeout) throw new CallTimeoutError(actor, what, timeoutMs);
        if (!provablyNotExecuted(error)) throw error;
        if ((error as { code?: string }).code === "CONNECTION_ERROR") this.#dropGateway(gateway);
        await delay(this.#clock, Math.min(10 * 2 ** attempt, 250, Math.max(0, deadline - this.#clock.now())));
      }
    }
  }

  /** The reminders of an actor, by name, as a gateway silo reads them from the store (no activation). */
  reminders<T extends Actor>(type: ActorClass<T>, id: string): Promise<ReminderInfo[]> {
    return this.#admin(type, id, ReminderAdmin.List, []) as Promise<ReminderInfo[]>;
  }

  /** Cancels one reminder of an actor; false when there was none. */
  cancelReminder<T extends Actor>(type: ActorClass<T>, id: string, name: string): Promise<boolean> {
    return this.#admin(type, id, ReminderAdmin.Cancel, [name]) as Promise<boolean>;
  }

  #admin(type: ActorClass, actorId: string, method: string, args: unknown[]): Promise<unknown> {
    const context = childContext(undefined, {});
    return this.invoke({ actorType: type.type, actorId, method, args, context, timeoutMs: this.defaultTimeoutMs });
  }

  /** The operator's view of the cluster (what the `granary` CLI and the inspector show). */
  get operator(): OperatorClient {
    this.#operator ??= new OperatorClient({
      addresses: async () => {
        await this.#refreshGateways();
        return this.#gateways;
      },
      request: (address, payload, timeoutMs) =>
        this.#pool.request(address, payload, { timeoutMs, timeoutError: gatewayTimeout }),
    });
    return this.#operator;
  }

  /**
   * Forgets a data subject (crypto-shredding) through one gateway silo: see `Silo.forget`.
   * Idempotent, so safe to retry. Any holder of the cluster key may call it: authorize the
   * person's request in your application first; `options.userId` is logged with the subject.
   */
  forget(subject: string, options?: CallOptions): Promise<ForgetResult> {
    return this.get(DataSubject, subject, options).forget();
  }

  /**
   * Typed queries of a document projection, answered by a gateway silo (see `silo.query`).
   * @example
   * await client.query(SkuStats).get("sku-1", { waitForLatest: true });
   */
  query<C extends DocumentProjectionClass>(cls: C): ProjectionQuery<DocumentOf<C>> {
    return clientQuery(this.#readSideInvoker(), cls);
  }

  /** Live events committed anywhere in the cluster, by subject pattern (see `silo.events`); at most once. */
  get events(): {
    subscribe(
      pattern: string,
      handler: (event: BusEvent) => void | Promise<void>,
      options?: BusSubscribeOptions,
    ): BusSubscription;
  } {
    return {
      subscribe: (pattern, handler, options) =>
        clientSubscribe(this.#readSideInvoker(), this.#logger, pattern, handler, options),
    };
  }

  #readSideInvoker(): GatewayInvoker {
    const client = this;
    return {
      defaultTimeoutMs: this.defaultTimeoutMs,
      get closed() {
        return client.#closed;
      },
      invoke: (request) => this.invoke(request),
      invokeAt: async (gateway, request) => {
        let target = gateway ?? this.#pick();
        if (target === undefined) {
          await this.#refreshGateways();
          target = this.#pick();
        }
        if (target === undefined) throw this.#noSilo(undefined);
        const value = await this.#pool.request(target, callMessage(request, 0), {
          timeoutMs: request.timeoutMs,
          timeoutError: gatewayTimeout,
        });
        return { value, gateway: target };
      },
    };
  }

  /** The gateway silos this client currently uses ("host:port"). */
  get gateways(): readonly string[] {
    return this.#gateways;
  }

  /** How this client's calls were routed: how many went straight to their actor's owner. */
  get routing(): ClientRouting {
    return {
      callsSent: this.#callsSent,
      callsToKnownOwner: this.#callsToKnownOwner,
      ownersKnown: this.#owners.size,
    };
  }

  invoke(call: CallRequest): Promise<unknown> {
    // Every call carries an idempotency key (its own call id unless the caller chose one), so a call
    // whose connection dropped mid-flight can be sent again without ever running twice.
    const request: CallRequest =
      call.idempotencyKey === undefined ? { ...call, idempotencyKey: call.context.callId } : call;
    if (this.#closed) return this.#invokeWithRetries(request, this.#clock.now() + request.timeoutMs, 0, undefined);
    // Fast path: one attempt on the actor's owner, or on the next gateway, answered straight into the
    // call's promise. Retry state exists only once a silo refused.
    const key = this.#ownerKey(request);
    const owner = key === undefined ? undefined : this.#knownOwner(key);
    const gateway = owner ?? this.#pick();
    if (gateway === undefined)
      return this.#invokeWithRetries(request, this.#clock.now() + request.timeoutMs, 0, undefined);
    this.#callsSent++;
    if (owner !== undefined) this.#callsToKnownOwner++;
    return new Promise((resolve, reject) => {
      const deadline = this.#clock.now() + request.timeoutMs;
      const call = new GatewayCall(this, request, gateway, deadline, key, owner !== undefined, resolve, reject);
      this.#pool.requestTo(gateway, callMessage(request, 0), call, this.#requestOptions(request.timeoutMs));
    });
  }

  static {
    afterRefusal = (client, call, error) => client.#afterRefusal(call, error);
    ranAt = (client, call, ownerHint) => client.#ranAt(call.actorKey, call.gateway, call.toKnownOwner, ownerHint);
    ownerFailed = (client, call) => {
      if (call.actorKey !== undefined) client.#owners.delete(call.actorKey);
    };
  }

  /**
   * The key the owner cache knows the call's actor by; undefined when the cache is off, or for
   * requests any silo answers itself (built-in `$granary.` types, `granary:` operator methods such
   * as a reminder listing): their answers say nothing about the actor's owner.
   */
  #ownerKey(request: CallRequest): string | undefined {
    if (this.#owners.capacity === 0) return undefined;
    if (request.actorType.startsWith(SYSTEM_TYPE_PREFIX) || request.method.startsWith("granary:")) return undefined;
    return streamOf(request.actorType, request.actorId);
  }

  /** The owner of `key` as last learned, while its silo is still a gateway. */
  #knownOwner(key: string): string | undefined {
    const owner = this.#owners.get(key);
    if (owner === undefined || this.#gatewaySet.has(owner)) return owner;
    this.#owners.delete(key);
    return undefined;
  }

  /**
   * A silo answered a call sent to `sentTo`: it ran where `ownerHint` says, or on `sentTo` when the
   * reply has no hint (that silo ran it itself).
   */
  #ranAt(key: string | undefined, sentTo: string, toKnownOwner: boolean, ownerHint: string | undefined): void {
    if (key === undefined) return;
    if (ownerHint === undefined) {
      if (!toKnownOwner) this.#owners.set(key, sentTo);
    } else if (this.#gatewaySet.has(ownerHint)) {
      this.#owners.set(key, ownerHint);
    } else {
      // A silo this client does not know (yet): keep going through gateways until membership says.
      this.#owners.delete(key);
    }
  }

  /** The options of a first attempt: one object per timeout value, not one per call. */
  #requestOptions(timeoutMs: number): RequestOptions {
    let options = this.#lastOptions;
    if (options?.timeoutMs !== timeoutMs) {
      options = { timeoutMs, timeoutError: gatewayTimeout };
      this.#lastOptions = options;
    }
    return options;
  }

  /** A gateway refused a first attempt (the call provably did not run): retry until the deadline. */
  async #afterRefusal(call: GatewayCall, error: unknown): Promise<unknown> {
    const { request, gateway, deadline } = call;
    this.#logger.debug({ gateway, err: messageOf(error) }, "gateway refused the call; trying another");
    if (unreachable(error)) this.#dropGateway(gateway);
    await delay(this.#clock, Math.min(10, Math.max(0, deadline - this.#clock.now())));
    return this.#invokeWithRetries(request, deadline, 1, error, gateway);
  }

  /**
   * Tries gateways until one takes the call. Only refusals get here (nothing ran), so a call that
   * no silo took fails with NO_SILO_AVAILABLE (retryable): at once when no gateway is known after
   * refreshing membership, or when every known gateway could not be reached during this call;
   * otherwise at the deadline. A call that was sent and not answered in time is a CALL_TIMEOUT.
   * @param refusedBy the gateway that gave `refusal`
   */
  async #invokeWithRetries(
    request: CallRequest,
    deadline: number,
    firstAttempt: number,
    refusal: unknown,
    refusedBy?: string,
  ): Promise<unknown> {
    let lastError: unknown = refusal;
    // The last attempt whose connection dropped mid-call: it may have run, so the call's final error
    // must not claim nothing was sent.
    let uncertain: unknown = provablyNotExecuted(refusal) ? undefined : refusal;
    // Gateways that could not be reached during this call: when every known one is here, give up.
    const unreachableHere = new Set<string>();
    if (refusedBy !== undefined && unreachable(refusal)) unreachableHere.add(refusedBy);
    for (let attempt = firstAttempt; ; attempt++) {
      if (this.#closed) throw new ShuttingDownError("client", { retryable: false });
      const remaining = deadline - this.#clock.now();
      if (remaining <= 0) throw uncertain ?? this.#noSilo(lastError);
      let gateway = this.#pickExcept(unreachableHere);
      if (gateway === undefined) {
        await this.#refreshGateways();
        gateway = this.#pickExcept(unreachableHere);
        if (gateway === undefined) throw uncertain ?? this.#noSilo(lastError);
      }
      try {
        return await this.#requestCall(gateway, request, remaining);
      } catch (error) {
        if (error instanceof GatewayTimeout) throw callTimeout(request);
        // Shed at a door: this attempt did not run, but an earlier one whose connection dropped may
        // have, so the call's outcome is unknown, not "nothing ran" (a caller would resend it).
        if (uncertain !== undefined && isGranaryError(error) && error.code === ErrorCode.Overloaded) throw uncertain;
        if (!safeToResend(error)) throw error;
        lastError = error;
        if (!provablyNotExecuted(error)) uncertain = error;
        this.#logger.debug({ gateway, err: messageOf(error) }, "gateway refused or dropped the call; trying another");
        if (unreachable(error)) {
          unreachableHere.add(gateway);
          this.#dropGateway(gateway);
        }
        await delay(this.#clock, Math.min(10 * 2 ** attempt, 250, Math.max(0, deadline - this.#clock.now())));
      }
    }
  }

  /** One attempt of a call on `gateway` outside the fast path, noting where it ran. */
  #requestCall(gateway: string, request: CallRequest, timeoutMs: number): Promise<unknown> {
    const key = this.#ownerKey(request);
    return new Promise((resolve, reject) =>
      this.#pool.requestTo(
        gateway,
        callMessage(request, 0),
        {
          resolve: (value, ownerHint) => {
            this.#ranAt(key, gateway, false, ownerHint);
            resolve(value);
          },
          reject: (error, ownerHint) => {
            if (ownerHint !== undefined && !safeToResend(error)) this.#ranAt(key, gateway, false, ownerHint);
            reject(error);
          },
        },
        { timeoutMs, timeoutError: gatewayTimeout },
      ),
    );
  }

  /** The error of a call no silo took (it never ran), saying why none could. */
  #noSilo(lastError: unknown): NoSiloAvailableError {
    if (lastError !== undefined) {
      const unreached = unreachable(lastError);
      return new NoSiloAvailableError(
        unreached
          ? `no gateway could be reached: ${messageOf(lastError)}`
          : `every gateway refused it until the deadline: ${messageOf(lastError)}`,
        { cause: lastError, sent: !unreached },
      );
    }
    if (this.#membershipError !== undefined) {
      return new NoSiloAvailableError(
        `the cluster's membership could not be read: ${messageOf(this.#membershipError)}`,
        { cause: this.#membershipError },
      );
    }
    return new NoSiloAvailableError(
      this.#membership ? "no silo is registered in the cluster's membership" : "no gateway is configured",
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#refresher) this.#clock.clearTimeout(this.#refresher);
    await this.#pool.close();
    if (this.#ownsMembership) await this.#membership?.close();
  }

  #pick(): string | undefined {
    if (this.#gateways.length === 0) return undefined;
    this.#next = (this.#next + 1) % this.#gateways.length;
    return this.#gateways[this.#next];
  }

  /** The next gateway not in `excluded`, round robin; undefined when there is none. */
  #pickExcept(excluded: ReadonlySet<string>): string | undefined {
    for (let i = 0; i < this.#gateways.length; i++) {
      const gateway = this.#pick();
      if (gateway !== undefined && !excluded.has(gateway)) return gateway;
    }
    return undefined;
  }

  #dropGateway(gateway: string): void {
    // With a fixed list, keep it (the silo may come back; each actor's entry goes when a call to it
    // fails); with membership, the next refresh decides, and dropping it now forgets its actors once.
    if (this.#membership) this.#setGateways(this.#gateways.filter((g) => g !== gateway));
  }

  #setGateways(gateways: string[]): void {
    const before = this.#gatewaySet;
    this.#gateways = gateways;
    this.#gatewaySet = new Set(gateways);
    // A silo that left owns nothing any more: one sweep when it leaves the list, rather than one
    // per failed call while it is down.
    for (const address of before) {
      if (!this.#gatewaySet.has(address)) {
        this.#owners.retainOwners((owner) => this.#gatewaySet.has(owner));
        return;
      }
    }
  }

  async #refreshGateways(): Promise<void> {
    if (!this.#membership) return;
    try {
      const members = await this.#membership.liveMembers();
      const gateways = members.map(formatAddress);
      // Calls waiting on a gateway whose lease expired fail now instead of at their timeout; one
      // that left gracefully answers what it accepted while it closes.
      for (const member of this.#members) {
        if (!gateways.includes(formatAddress(member)) && member.leaseExpiresAt <= this.#clock.now()) {
          this.#pool.disconnect(formatAddress(member), "its membership lease expired");
        }
      }
      this.#members = members;
      this.#setGateways(gateways);
      this.#membershipError = undefined;
    } catch (error) {
      this.#membershipError = error;
      this.#logger.warn({ err: messageOf(error) }, "could not refresh gateways from membership; keeping the last list");
    }
  }
}

/** A first attempt in flight: receives the silo's answer and settles the caller's promise. */
class GatewayCall implements ResponseSink {
  /**
   * @param deadline started at, plus the call's timeout (on the client's clock): retries stop there
   * @param actorKey the actor's key, when the client keeps owners
   * @param toKnownOwner `gateway` is the silo the client knew as the actor's owner
   */
  constructor(
    readonly client: Client,
    readonly request: CallRequest,
    readonly gateway: string,
    readonly deadline: number,
    readonly actorKey: string | undefined,
    readonly toKnownOwner: boolean,
    readonly resolvePromise: (value: unknown) => void,
    readonly rejectPromise: (error: unknown) => void,
  ) {}

  resolve(value: unknown, ownerHint?: string): void {
    // Sent to the known owner and answered without a hint: nothing new to learn.
    if (!this.toKnownOwner || ownerHint !== undefined) ranAt(this.client, this, ownerHint);
    this.resolvePromise(value);
  }

  reject(error: unknown, ownerHint?: string): void {
    if (error instanceof GatewayTimeout) {
      if (this.toKnownOwner) ownerFailed(this.client, this);
      this.rejectPromise(callTimeout(this.request));
    } else if (!safeToResend(error)) {
      // The call ran and failed there: a hint still says where.
      if (ownerHint !== undefined) ranAt(this.client, this, ownerHint);
      this.rejectPromise(error);
    } else {
      if (this.toKnownOwner) ownerFailed(this.client, this);
      afterRefusal(this.client, this, error).then(this.resolvePromise, this.rejectPromise);
    }
  }
}

/**
 * The call provably did not run (refused at a silo's door, or never sent), or its outcome is unknown
 * (the connection dropped mid-call): every client call carries an idempotency key, so sending it
 * again can never run it twice on an event-sourced actor.
 */
function safeToResend(error: unknown): boolean {
  return provablyNotExecuted(error) || outcomeUnknown(error);
}

/** Our own wait for a gateway's answer ran out; becomes the call's CallTimeoutError. Never escapes. */
class GatewayTimeout extends Error {}

function gatewayTimeout(): Error {
  return new GatewayTimeout("gateway did not answer in time");
}

function callTimeout(request: CallRequest): CallTimeoutError {
  return new CallTimeoutError(`${request.actorType}/${request.actorId}`, request.method, request.timeoutMs);
}

/** A connection that could not be opened, or closed before the call was sent: nothing was sent. */
function unreachable(error: unknown): boolean {
  const e = error as { code?: string; retryable?: boolean } | undefined;
  return e?.code === "CONNECTION_ERROR" && e.retryable === true;
}
