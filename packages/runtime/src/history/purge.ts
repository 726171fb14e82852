import { InvalidArgumentError, messageOf, type PurgeRequest, type Tombstone } from "@granary/core";
import type { ActivationServices } from "../activation/activation-services.js";
import { announcePurge } from "../projections/purge-notice.js";

/**
 * The method name a purge travels under: a purge is routed like a call (directory, placement,
 * forwarding), so it reaches the silo where the actor is active, whichever silo it started on.
 * The catalog takes it before any actor method could: no actor can declare it (`$` is not a
 * public method name a reference reaches, and the catalog intercepts it first).
 */
export const PURGE_METHOD = "$granary.purge";

/** The longest reason or requestedBy kept in a tombstone. */
export const MAX_PURGE_FIELD_LENGTH = 1_000;

/** A purged actor, as purge listeners see it. */
export interface PurgedActor {
  readonly actorType: string;
  readonly actorId: string;
  readonly tombstone: Tombstone;
  /** Feed position of the purge notice, through which every projection hears of the purge. */
  readonly noticePosition: number;
}

/**
 * Called on the silo that executed a purge, after the tombstone is written, the snapshots are
 * purged and the notice is in the feed, before the purge resolves (awaited; a throw is logged and
 * does not undo the purge).
 */
export type PurgeListener = (purged: PurgedActor) => void | Promise<void>;

/** @throws InvalidArgumentError unless reason and requestedBy are non-empty strings of sane length */
export function validatePurgeRequest(request: unknown, actor: string): PurgeRequest {
  const r = request as Partial<PurgeRequest> | undefined;
  for (const field of ["reason", "requestedBy"] as const) {
    const value = r?.[field];
    if (typeof value !== "string" || value.trim() === "") {
      throw new InvalidArgumentError(
        `purge of ${actor} needs a non-empty \`${field}\` (who asked and why are kept forever in the tombstone), got ${JSON.stringify(value)}`,
      );
    }
    if (value.length > MAX_PURGE_FIELD_LENGTH) {
      throw new InvalidArgumentError(
        `purge of ${actor}: \`${field}\` is ${value.length} characters; at most ${MAX_PURGE_FIELD_LENGTH} (it must not itself hold the personal data being erased)`,
      );
    }
  }
  return { reason: (r as PurgeRequest).reason, requestedBy: (r as PurgeRequest).requestedBy };
}

/**
 * Erases one stream on this silo: the event store writes the tombstone and deletes the events,
 * then the snapshot store deletes every snapshot and refuses later saves, then a purge notice goes
 * into the feed (projections on every silo apply `onPurge` when they reach it, see
 * purge-notice.ts), then listeners hear of it. Runs while the silo holds the actor's directory
 * entry (see Activation.purge), so no activation anywhere can start before the tombstone exists.
 * Each step is idempotent: a purge that failed part way is completed by purging again.
 */
export class PurgeCoordinator {
  readonly #listeners = new Set<PurgeListener>();

  constructor(readonly services: Pick<ActivationServices, "store" | "snapshots" | "logger">) {}

  /** Adds a listener; returns the function that removes it. */
  listen(listener: PurgeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async erase(actorType: string, actorId: string, stream: string, request: PurgeRequest): Promise<Tombstone> {
    const tombstone = await this.services.store.purge(stream, request);
    await this.services.snapshots.purge(stream, { purgedAt: tombstone.purgedAt, reason: tombstone.reason });
    const noticePosition = await announcePurge(this.services.store, tombstone);
    this.services.logger.info(
      { actor: stream, requestedBy: tombstone.requestedBy, lastVersion: tombstone.lastVersion },
      "purged",
    );
    for (const listener of this.#listeners) {
      try {
        await listener({ actorType, actorId, tombstone, noticePosition });
      } catch (error) {
        this.services.logger.error({ actor: stream, err: messageOf(error) }, "a purge listener threw");
      }
    }
    return tombstone;
  }
}
