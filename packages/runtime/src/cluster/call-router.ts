import {
  type Clock,
  type Directory,
  delay,
  ErrorCode,
  formatAddress,
  isGranaryError,
  NotOwnerError,
  ShuttingDownError,
  streamOf,
} from "@granary/core";
import type { Logger } from "pino";
import type { PendingCall } from "../activation/mailbox.js";
import type { ActivationSlots } from "../admission/activation-slots.js";
import type { CallRequest } from "../calls/call-context.js";
import { callMessage } from "../calls/call-wire.js";
import { provablyNotExecuted } from "../calls/retry-rules.js";
import type { Catalog } from "../catalog/catalog.js";
import type { DirectoryCache } from "../directory/directory-cache.js";
import type { MembershipAgent } from "../membership/membership-agent.js";
import type { ConnectionPool } from "../messaging/pool.js";
import type { PlacementStrategy } from "../placement/placement.js";
import type { RoutingCounters } from "./routing-counters.js";

/** Forwarding limit: a call that bounced this often between silos gets NotOwner and is retried. */
const MAX_HOPS = 3;
const MAX_ATTEMPTS = 10;
const SUSPECT_MS = 2_000;

/**
 * A call the router may annotate for its remote caller: where it ran (the reply's owner hint) and
 * whether a client sent it (counted when it has to be forwarded). Call records have both fields.
 */
export interface RoutedCall extends PendingCall {
  ownerHint?: string | undefined;
  readonly fromClient?: boolean;
  /** Silos the call went through before this one (0 when unknown: a local call). */
  hops?: number;
}

/** Returned by route when it handed the call itself to the catalog: the call answers itself. */
const DISPATCHED: unique symbol = Symbol("dispatched");

export interface CallRouterDeps {
  readonly siloId: string;
  /** This silo's advertised "host:port": the owner hint of calls forwarded here and run here. */
  readonly selfAddress: string;
  /** Counters shared with the silo (they outlive a router: a fenced silo routes anew when it rejoins). */
  readonly counters: RoutingCounters;
  readonly catalog: Catalog;
  readonly directory: Directory;
  readonly cache: DirectoryCache;
  readonly agent: MembershipAgent;
  readonly pool: ConnectionPool;
  readonly placement: PlacementStrategy;
  readonly logger: Logger;
  /** Retry back-off and how long a silo stays suspect run on it. */
  readonly clock: Clock;
  /** True once the silo is stopping: it takes no new activations. */
  readonly stopping: () => boolean;
  /** Bounds the directory look-ups in flight (a burst of first calls would send one each at once). */
  readonly lookupSlots?: ActivationSlots;
}

/**
 * Decides where a call runs: on this silo's activation, on the owner the directory names, or where
 * placement puts a new activation. Retries, after refreshing what it knows, only calls that
 * provably did not execute: refused by a silo that does not own the actor or is leaving
 * (NOT_OWNER, SHUTTING_DOWN) or whose connection never opened (retryable CONNECTION_ERROR).
 *
 * Owner hints: a call that arrived from another silo and ran here is answered with this silo's
 * address; a call forwarded from here is answered with the address its owner reported (or the
 * silo it was sent to). Clients keep these to send the actor's next calls straight to its owner.
 * A hint only picks the first silo a call goes to: that silo routes it as any other, so a stale
 * hint costs a hop, never correctness.
 */
export class CallRouter {
  readonly #deps: CallRouterDeps;
  readonly #suspects = new Map<string, number>();

  constructor(deps: CallRouterDeps) {
    this.#deps = deps;
  }

  /**
   * @param hops silos this call already went through (0 from a client or a local actor)
   * @param placedHere a peer chose this silo for a new activation: activate here (unless this
   *   silo's directory cache names another live owner) without looking the directory up again;
   *   the activation's register returns the live owner if there is one
   */
  route(request: CallRequest, hops: number, placedHere: boolean): Promise<unknown> {
    return this.#route(request, hops, placedHere, undefined);
  }

  /**
   * @param call the call's own record: run here, it goes to the catalog itself (so a lost
   *   directory race reroutes the record, hint and all) and route resolves with DISPATCHED
   */
  async #route(
    request: CallRequest,
    hops: number,
    placedHere: boolean,
    call: RoutedCall | undefined,
  ): Promise<unknown> {
    const { catalog, cache, agent, siloId } = this.#deps;
    const key = streamOf(request.actorType, request.actorId);
    let lastError: unknown;
    let forwarded = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!agent.leaseValid()) throw new NotOwnerError(key);
      const target = await this.#target(key, request, placedHere && attempt === 0);
      if (target === siloId) {
        if (this.#deps.stopping() && !catalog.find(request.actorType, request.actorId)) {
          throw new ShuttingDownError(`silo ${siloId}`);
        }
        if (call === undefined) return catalog.dispatch(request);
        if (hops > 0) call.ownerHint = this.#deps.selfAddress;
        catalog.dispatchCall(call);
        return DISPATCHED;
      }
      if (hops >= MAX_HOPS) throw new NotOwnerError(key);
      if (!forwarded) {
        forwarded = true;
        if (call?.fromClient) this.#deps.counters.clientCallsForwarded++;
      }
      try {
        return await this.#remote(target, request, hops + 1, key, call);
      } catch (error) {
        if (!provablyNotExecuted(error)) throw error;
        lastError = error;
        cache.invalidate(key);
        // A silo that refused at the door or cannot be reached is avoided for a moment by placement.
        if (!isGranaryError(error, ErrorCode.NotOwner)) this.#suspects.set(target, this.#deps.clock.now() + SUSPECT_MS);
        this.#deps.logger.debug(
          { actor: key, target, attempt, code: (error as { code: string }).code },
          "retrying call",
        );
        await delay(this.#deps.clock, Math.min(20 * 2 ** attempt, 500));
      }
    }
    throw lastError;
  }

  /**
   * Routes a call answered through its own record. The hot path (the actor is active here) goes
   * straight to the catalog without a promise or a directory look-up.
   */
  routeCall(call: RoutedCall, hops: number, placedHere: boolean): void {
    call.hops = hops;
    const request = call.request;
    const local = this.#deps.catalog.find(request.actorType, request.actorId);
    if (local?.state === "active" && this.#deps.agent.leaseValid()) {
      if (hops > 0) call.ownerHint = this.#deps.selfAddress;
      this.#deps.catalog.dispatchCall(call);
      return;
    }
    this.#route(request, hops, placedHere, call).then(
      (value) => {
        if (value !== DISPATCHED) call.resolve(value);
      },
      (error: unknown) => call.reject(error),
    );
  }

  /** Calls whose activation lost the directory race: send them to the winner (and tell their callers). */
  reroute(call: RoutedCall): void {
    // With the hops it came with: while the directory still names an owner this silo cannot reach
    // (a crashed silo whose lease has not expired), silos placing the call on each other would
    // bounce it back and forth at once, a request kept open per bounce. MAX_HOPS ends that with
    // NOT_OWNER, and the router that forwarded it backs off before trying again.
    this.#route(call.request, call.hops ?? 0, false, call).then(
      (value) => {
        if (value !== DISPATCHED) call.resolve(value);
      },
      (error: unknown) => call.reject(error),
    );
  }

  async #target(key: string, request: CallRequest, placedHere: boolean): Promise<string> {
    const { catalog, cache, agent, directory, siloId, placement } = this.#deps;
    const local = catalog.find(request.actorType, request.actorId);
    if (local && (local.state === "active" || local.state === "activating")) return siloId;
    const cached = cache.get(key);
    if (cached && agent.isLive(cached.siloId) && !this.#isSuspect(cached.siloId)) return cached.siloId;
    // The peer that placed the call here looked the actor up just before: the activation's
    // register (a compare-and-set that returns the live owner) is the look-up, one Redis round
    // trip instead of two; losing that race hands the call to the winner (onNotOwner).
    if (placedHere) return siloId;
    const slots = this.#deps.lookupSlots;
    const queued = slots?.acquire();
    if (queued) await queued;
    let entry: Awaited<ReturnType<Directory["lookup"]>>;
    try {
      entry = await directory.lookup(key);
    } finally {
      slots?.release();
    }
    if (entry && agent.isLive(entry.siloId) && !this.#isSuspect(entry.siloId)) {
      cache.set(entry);
      return entry.siloId;
    }
    const live = agent.liveSiloIds().filter((id) => !this.#isSuspect(id));
    return placement.place({
      actorKey: key,
      self: siloId,
      fromActor: request.context.chain.length > 1,
      live: live.length > 0 ? live : [siloId],
    });
  }

  /**
   * Sends the call to `target` and notes where it ran: the hint in the answer, or `target` itself.
   * A hint naming another silo means our directory cache sent it the long way: forget that entry.
   */
  #remote(
    target: string,
    request: CallRequest,
    hops: number,
    key: string,
    call: RoutedCall | undefined,
  ): Promise<unknown> {
    const member = this.#deps.agent.member(target);
    if (!member) return Promise.reject(new NotOwnerError(key));
    const address = formatAddress(member);
    const ranAt = (hint: string | undefined): void => {
      if (hint !== undefined && hint !== address) this.#deps.cache.invalidate(key);
      if (call !== undefined) call.ownerHint = hint ?? address;
    };
    return new Promise((resolve, reject) =>
      this.#deps.pool.requestTo(
        address,
        callMessage(request, hops),
        {
          resolve: (value, hint) => {
            ranAt(hint);
            resolve(value);
          },
          reject: (error, hint) => {
            // An error answered by the peer (not a refusal) ran there, or where its hint says.
            if (hint !== undefined && !provablyNotExecuted(error)) ranAt(hint);
            reject(error);
          },
        },
        { timeoutMs: request.timeoutMs },
      ),
    );
  }

  #isSuspect(siloId: string): boolean {
    const until = this.#suspects.get(siloId);
    if (until === undefined) return false;
    if (until > this.#deps.clock.now()) return true;
    this.#suspects.delete(siloId);
    return false;
  }
}
