import type { JsonValue } from "@granary/core";
import { eventSourcing } from "@granary/core/internal";
import type { Activation } from "../activation/activation.js";
import type { ActivationView } from "./admin-types.js";

/** An operator's view of one activation; the actor's state only when asked (it can be large). */
export function describeActivation(activation: Activation, siloId: string, withState: boolean): ActivationView {
  const view: ActivationView = {
    type: activation.type,
    id: activation.actorId,
    siloId,
    state: activation.state,
    epoch: activation.epoch,
    mailboxDepth: activation.mailboxDepth,
    lastActiveAt: new Date(activation.lastActiveAt).toISOString(),
  };
  const instance = activation.instance as { [eventSourcing]?: { readonly state: unknown; readonly version: number } };
  const control = activation.info.eventSourced && instance ? instance[eventSourcing] : undefined;
  if (!control) return view;
  return withState
    ? { ...view, version: control.version, actorState: control.state as JsonValue }
    : { ...view, version: control.version };
}
