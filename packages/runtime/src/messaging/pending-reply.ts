import { toWireError } from "@granary/core";
import type { Reply } from "./connection-types.js";
import { MessageType } from "./protocol.js";

/** Writes the answer to request `id` (a Response, or an ErrorResponse carrying a wire error). */
export type Answer = (
  id: number,
  type: typeof MessageType.Response | typeof MessageType.ErrorResponse,
  value: unknown,
  ownerHint: string | undefined,
) => void;

/** A request being handled: answers it once, however the handler settles. */
export class PendingReply implements Reply {
  #answer: Answer | undefined;
  readonly #id: number;

  constructor(answer: Answer, id: number) {
    this.#answer = answer;
    this.#id = id;
  }

  resolve(value: unknown, ownerHint?: string): void {
    const answer = this.#answer;
    if (answer === undefined) return;
    this.#answer = undefined;
    answer(this.#id, MessageType.Response, value, ownerHint);
  }

  reject(error: unknown, ownerHint?: string): void {
    const answer = this.#answer;
    if (answer === undefined) return;
    this.#answer = undefined;
    answer(this.#id, MessageType.ErrorResponse, toWireError(error), ownerHint);
  }
}
