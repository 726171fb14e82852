import { InvalidArgumentError } from "@granary/core";
import { Activation, type ActivationHooks, type DeactivationReason } from "../activation/activation.js";
import type { ActivationServices } from "../activation/activation-services.js";
import type { ActorTypeRegistry } from "../activation/actor-type-info.js";
import type { PendingCall } from "../activation/mailbox.js";
import { rememberedTarget, rememberTarget } from "../calls/actor-proxy.js";
import type { CallRequest } from "../calls/call-context.js";
import { PURGE_METHOD, type PurgeCoordinator, validatePurgeRequest } from "../history/purge.js";

/** Decides what happens to calls an activation could not run because another silo owns the actor. */
export type NotOwnerHandler = (calls: PendingCall[], error: unknown) => void;

/** What the silo decides for its catalog, fixed when the catalog is built. */
export interface CatalogHooks {
  /**
   * Calls whose activation lost the directory race (`NOT_OWNER`) go to the winner. Without it (a
   * standalone silo: no one to send them to) they fail with the error.
   */
  readonly onNotOwner?: NotOwnerHandler | undefined;
  /** Why no activation may start now (a stopping or fenced silo: callers retry elsewhere), else undefined. */
  readonly refuseNewActivations?: (() => Error | undefined) | undefined;
  /** Erases a stream for purge calls (see Activation.purge); without it purge calls are refused. */
  readonly purger?: PurgeCoordinator | undefined;
}

/**
 * The activations of this silo, by actor key. Creates an activation on a first call, hands calls
 * to the successor when one goes away, and collects idle ones.
 */
export class Catalog implements ActivationHooks {
  // Type → id → activation: no key string is built on the hot path.
  readonly #activations = new Map<string, Map<string, Activation>>();
  #size = 0;

  readonly #onNotOwner: NotOwnerHandler | undefined;
  readonly #refuseNewActivations: (() => Error | undefined) | undefined;
  readonly #purger: PurgeCoordinator | undefined;

  constructor(
    readonly registry: ActorTypeRegistry,
    readonly services: ActivationServices,
    hooks: CatalogHooks = {},
  ) {
    this.#onNotOwner = hooks.onNotOwner;
    this.#refuseNewActivations = hooks.refuseNewActivations;
    this.#purger = hooks.purger;
  }

  get size(): number {
    return this.#size;
  }

  *activations(): IterableIterator<Activation> {
    for (const byId of this.#activations.values()) yield* byId.values();
  }

  find(actorType: string, actorId: string): Activation | undefined {
    return this.#activations.get(actorType)?.get(actorId);
  }

  /** Runs the call on this silo's activation of the actor, activating it if needed. */
  dispatch(request: CallRequest): Promise<unknown> {
    return new Promise((resolve, reject) => this.dispatchCall({ request, resolve, reject }));
  }

  /** Like dispatch, answering through the call's own resolve/reject (no extra promise). */
  dispatchCall(call: PendingCall): void {
    if (call.request.method === PURGE_METHOD) {
      this.#dispatchPurge(call);
      return;
    }
    const request = call.request;
    // The reference's memo first: a live activation of this catalog takes the call without the
    // two map look-ups (whose hashing and probing miss the CPU cache when many actors are called).
    const route = request.route;
    const remembered = route && (rememberedTarget(route) as Activation | undefined);
    if (remembered?.enqueue(call)) return;
    const { actorType, actorId } = request;
    let byId = this.#activations.get(actorType);
    let activation = byId?.get(actorId);
    if (!activation) {
      let info: ReturnType<ActorTypeRegistry["get"]>;
      try {
        const refusal = this.#refuseNewActivations?.();
        if (refusal) throw refusal;
        info = this.registry.get(actorType);
      } catch (error) {
        call.reject(error);
        return;
      }
      if (!byId) {
        byId = new Map();
        this.#activations.set(actorType, byId);
      }
      activation = new Activation(info, actorId, this.services, this);
      byId.set(actorId, activation);
      this.#size++;
      activation.start();
    }
    if (route !== undefined) rememberTarget(route, activation);
    if (activation.enqueue(call)) return;
    void activation.gone.then(() => this.dispatchCall(call));
  }

  /**
   * A purge: taken by the actor's activation here, or by a purge-only activation that holds the
   * directory entry while the stream is erased. Re-dispatched when the activation was already
   * going away; sent to the owner when another silo holds the actor.
   */
  #dispatchPurge(call: PendingCall): void {
    const { actorType, actorId } = call.request;
    let activation = this.find(actorType, actorId);
    let request: ReturnType<typeof validatePurgeRequest>;
    let info: ReturnType<ActorTypeRegistry["get"]>;
    try {
      info = this.registry.get(actorType);
      request = validatePurgeRequest(call.request.args[0], `${actorType}/${actorId}`);
      if (!info.eventSourced)
        throw new InvalidArgumentError(`${actorType} keeps volatile state: it has no history to purge`);
      if (!this.#purger) throw new InvalidArgumentError("this catalog cannot purge (no purger set)");
      if (!activation) {
        const refusal = this.#refuseNewActivations?.();
        if (refusal) throw refusal;
      }
    } catch (error) {
      call.reject(error);
      return;
    }
    const purger = this.#purger;
    if (!activation) {
      activation = new Activation(info, actorId, this.services, this, true);
      this.#add(activation);
      activation.start();
    }
    const target = activation;
    target
      .purge(() => purger.erase(actorType, actorId, target.key, request))
      .then(
        (tombstone) => {
          if (tombstone) call.resolve(tombstone);
          else this.dispatchCall(call);
        },
        (error: unknown) => {
          if ((error as { code?: string })?.code === "NOT_OWNER" && this.#onNotOwner) this.#onNotOwner([call], error);
          else if (!target.purgeOnly) this.dispatchCall(call);
          else call.reject(error);
        },
      );
  }

  onFailed(activation: Activation, error: unknown, calls: PendingCall[]): void {
    this.#forget(activation);
    if (this.#onNotOwner && (error as { code?: string })?.code === "NOT_OWNER") {
      this.#onNotOwner(calls, error);
      return;
    }
    for (const call of calls) call.reject(error);
  }

  onGone(activation: Activation, calls: PendingCall[]): void {
    this.#forget(activation);
    for (const call of calls) this.dispatchCall(call);
  }

  /** Deactivates activations idle for at least `idleMs`; returns how many. */
  collectIdle(now: number, idleMs: number): number {
    let collected = 0;
    for (const activation of this.activations()) {
      if (activation.isIdle(now, idleMs)) {
        collected++;
        void activation.deactivate("idle");
      }
    }
    return collected;
  }

  async deactivateAll(reason: DeactivationReason): Promise<void> {
    // Activations may call each other while draining, so all drain together, not one by one.
    await Promise.all([...this.activations()].map((a) => a.deactivate(reason)));
    if (this.#size > 0) await this.deactivateAll(reason);
  }

  #add(activation: Activation): void {
    let byId = this.#activations.get(activation.info.type);
    if (!byId) {
      byId = new Map();
      this.#activations.set(activation.info.type, byId);
    }
    byId.set(activation.actorId, activation);
    this.#size++;
  }

  #forget(activation: Activation): void {
    const byId = this.#activations.get(activation.info.type);
    if (byId?.get(activation.actorId) !== activation) return;
    byId.delete(activation.actorId);
    this.#size--;
  }
}
