import { streamOf } from "@granary/core";
import { Activation, type ActivationHooks, type DeactivationReason } from "../activation/activation.js";
import type { ActivationServices } from "../activation/activation-services.js";
import type { ActorTypeRegistry } from "../activation/actor-type-info.js";
import type { PendingCall } from "../activation/mailbox.js";
import type { CallRequest } from "../calls/call-context.js";

/** Decides what happens to calls an activation could not run because another silo owns the actor. */
export type NotOwnerHandler = (calls: PendingCall[], error: unknown) => void;

/**
 * The activations of this silo, by actor key. Creates an activation on a first call, hands calls
 * to the successor when one goes away, and collects idle ones.
 */
export class Catalog implements ActivationHooks {
  readonly #activations = new Map<string, Activation>();

  /** Set by a clustered silo: calls whose activation lost the directory race go to the winner. */
  onNotOwner: NotOwnerHandler | undefined;
  /** Set by a stopping silo: no new activations (callers retry on another silo). */
  refuseNewActivations: (() => Error | undefined) | undefined;

  constructor(
    readonly registry: ActorTypeRegistry,
    readonly services: ActivationServices,
  ) {}

  get size(): number {
    return this.#activations.size;
  }

  activations(): IterableIterator<Activation> {
    return this.#activations.values();
  }

  get(key: string): Activation | undefined {
    return this.#activations.get(key);
  }

  /** Runs the call on this silo's activation of the actor, activating it if needed. */
  dispatch(request: CallRequest): Promise<unknown> {
    const key = streamOf(request.actorType, request.actorId);
    let activation = this.#activations.get(key);
    if (!activation) {
      let info: ReturnType<ActorTypeRegistry["get"]>;
      try {
        const refusal = this.refuseNewActivations?.();
        if (refusal) throw refusal;
        info = this.registry.get(request.actorType);
      } catch (error) {
        return Promise.reject(error);
      }
      activation = new Activation(info, request.actorId, this.services, this);
      this.#activations.set(key, activation);
      activation.start();
    }
    const result = activation.enqueue(request);
    if (result) return result;
    return activation.gone.then(() => this.dispatch(request));
  }

  onFailed(activation: Activation, error: unknown, calls: PendingCall[]): void {
    this.#forget(activation);
    if (this.onNotOwner && (error as { code?: string })?.code === "NOT_OWNER") {
      this.onNotOwner(calls, error);
      return;
    }
    for (const call of calls) call.reject(error);
  }

  onGone(activation: Activation, calls: PendingCall[]): void {
    this.#forget(activation);
    for (const call of calls) this.dispatch(call.request).then(call.resolve, call.reject);
  }

  /** Deactivates activations idle for at least `idleMs`; returns how many. */
  collectIdle(now: number, idleMs: number): number {
    let collected = 0;
    for (const activation of this.#activations.values()) {
      if (activation.isIdle(now, idleMs)) {
        collected++;
        void activation.deactivate("idle");
      }
    }
    return collected;
  }

  async deactivateAll(reason: DeactivationReason): Promise<void> {
    // Activations may call each other while draining, so all drain together, not one by one.
    await Promise.all([...this.#activations.values()].map((a) => a.deactivate(reason)));
    if (this.#activations.size > 0) await this.deactivateAll(reason);
  }

  #forget(activation: Activation): void {
    if (this.#activations.get(activation.key) === activation) this.#activations.delete(activation.key);
  }
}
