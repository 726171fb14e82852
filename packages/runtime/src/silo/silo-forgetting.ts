import {
  assertSubject,
  InvalidConfigurationError,
  messageOf,
  type SnapshotStore,
  UnknownMethodError,
} from "@granary/core";
import type { Logger } from "pino";
import type { CallRequest } from "../calls/call-context.js";
import type { Catalog } from "../catalog/catalog.js";
import { DATA_SUBJECT_TYPE, type ForgetResult } from "../crypto/data-subject.js";
import type { Shredding } from "../crypto/shredding.js";

/** What forgetting needs from its silo. */
export interface SiloForgettingLinks {
  /** Undefined when no actor declares personal data and no key store was given. */
  readonly shredding: Shredding | undefined;
  readonly catalog: Catalog;
  /** The silo's (sealing) snapshot store. */
  readonly snapshots: SnapshotStore;
  readonly logger: () => Logger;
}

/**
 * Forgetting data subjects on one silo (crypto-shredding): destroys the subject's key, then
 * deactivates the activations that may hold its plaintext; answers calls to the DataSubject address.
 */
export class SiloForgetting {
  readonly #links: SiloForgettingLinks;

  constructor(links: SiloForgettingLinks) {
    this.#links = links;
  }

  /** See Silo.forget. */
  async forget(subject: string): Promise<ForgetResult> {
    const shredding = this.#links.shredding;
    if (!shredding) {
      throw new InvalidConfigurationError(
        "keyStore",
        "no actor class declares personalData and no keyStore was given, so this silo holds no keys to destroy",
      );
    }
    assertSubject(subject);
    const result = await shredding.keys.destroy(subject);
    this.#links
      .logger()
      .info({ subject, destroyedAt: result.destroyedAt }, "data subject forgotten: its key is destroyed");
    await this.deactivatePersonalData(subject);
    return result;
  }

  /** Deactivates live activations of actor types that declare personal data (which ones hold the subject is not tracked). */
  async deactivatePersonalData(subject: string): Promise<void> {
    const rules = this.#links.shredding?.rules;
    if (!rules) return;
    const affected = [...this.#links.catalog.activations()].filter((a) => rules.declares(a.info.type));
    if (affected.length === 0) return;
    this.#links
      .logger()
      .debug({ subject, activations: affected.length }, "deactivating personal-data activations after a forget");
    await Promise.all(
      affected.map(async (activation) => {
        await activation.deactivate("idle");
        // Loading through the sealing store deletes a snapshot that involves a forgotten subject.
        await this.#links.snapshots.load(activation.key).catch((error: unknown) => {
          this.#links
            .logger()
            .warn({ actor: activation.key, err: messageOf(error) }, "snapshot check after a forget failed");
        });
      }),
    );
  }

  /** A call to the built-in DataSubject address: answered by this silo, never routed to an activation. */
  async answer(request: CallRequest): Promise<ForgetResult> {
    if (request.method !== "forget") throw new UnknownMethodError(DATA_SUBJECT_TYPE, request.method);
    const userId = request.context.userId;
    this.#links
      .logger()
      .info({ subject: request.actorId, ...(userId === undefined ? {} : { userId }) }, "forget requested");
    return this.forget(request.actorId);
  }

  /** Closes the key store and cache, when there are any. */
  async close(): Promise<void> {
    await this.#links.shredding?.close();
  }
}
