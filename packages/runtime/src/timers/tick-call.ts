import type { PendingCall } from "../activation/mailbox.js";
import { callContext, newCallId } from "../calls/call-context.js";

/** What a tick needs of an activation: the actor it calls and the mailbox it queues into. */
export interface TickTarget {
  readonly info: { readonly type: string };
  readonly actorId: string;
  /** False when the activation no longer takes calls (see `Activation.enqueue`). */
  enqueue(call: PendingCall): boolean;
}

/**
 * Queues a timer tick as a turn of `activation`: a call of its own chain (so it is never reentrant
 * into a running turn) whose body is the timer's callback. Undefined when the activation is gone.
 */
export function tickCall(activation: TickTarget, timer: string, body: () => unknown): Promise<unknown> | undefined {
  const callId = newCallId();
  let call: PendingCall | undefined;
  const done = new Promise<unknown>((resolve, reject) => {
    call = {
      request: {
        actorType: activation.info.type,
        actorId: activation.actorId,
        method: `timer:${timer}`,
        args: [],
        context: callContext(callId, [callId], callId, undefined, undefined),
        timeoutMs: 0,
      },
      resolve,
      reject,
      body,
    };
  });
  return activation.enqueue(call as PendingCall) ? done : undefined;
}
