import { InvalidArgumentError } from "@granary/core";
import type { CallRequest } from "../calls/call-context.js";

/**
 * A call chain decides reentrancy: a call naming a running call as its ancestor skips the mailbox.
 * Only silos make calls inside a chain (an actor's `this.get(...)`), so only silos may send one; a
 * client that sends a chain is refused rather than trusted or silently stripped, so a bug or an
 * attack is visible at once. Clients always start a new chain (`chain` = just the call itself).
 *
 * @returns the refusal for a call a client sent with a chain, else undefined
 */
export function clientCallRefusal(request: CallRequest): InvalidArgumentError | undefined {
  const { chain, callId } = request.context;
  if (chain.length === 1 && chain[0] === callId) return undefined;
  return new InvalidArgumentError(
    `call chains are accepted only from silos: a client connection sent call ${callId} with chain of ${chain.length} call ids; clients must start a new chain (leave \`chain\` unset)`,
  );
}
