import { createHash } from "node:crypto";
import {
  AlreadyExecutedError,
  decode,
  type EventStore,
  encode,
  IDEMPOTENCY_WINDOW_EVENTS,
  IdempotencyKeyReusedError,
  type IdempotencyRecord,
  InvalidArgumentError,
  isGranaryError,
} from "@granary/core";

/**
 * Idempotent commands. A call with an idempotency key that an actor has already committed events
 * for is not run again: it answers with the first outcome. The key, a digest of the call (method and
 * arguments) and the reply travel in the metadata of the events the call commits, so they are
 * durable exactly when its events are (same append), and a successor activation after a crash
 * still knows them: it reads them back from the actor's last {@link IDEMPOTENCY_WINDOW_EVENTS}
 * events the first time a keyed call arrives. Calls that commit no events changed nothing, are not
 * remembered, and run again.
 */

/** Longest accepted key: room for a UUID with a prefix, small enough to sit in every event's metadata. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** @throws InvalidArgumentError when `key` is set but not a non-empty string of at most 200 characters */
export function checkIdempotencyKey(key: unknown): void {
  if (key === undefined) return;
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new InvalidArgumentError(
      `idempotencyKey must be a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${
        typeof key === "string" ? `${key.length} characters` : typeof key
      }`,
    );
  }
}

/** A short digest of the arguments, so a key reused for another command is recognized. */
export function argsDigest(args: readonly unknown[]): string {
  let bytes: Uint8Array;
  try {
    bytes = encode(args);
  } catch {
    bytes = Buffer.from(String(args));
  }
  return createHash("sha256").update(bytes).digest("base64url").slice(0, 22);
}

/** The reply as stored in event metadata (msgpack, base64): exactly what the wire would carry. */
export function encodeReply(value: unknown): string | undefined {
  try {
    return encode(value).toString("base64");
  } catch {
    return undefined;
  }
}

/**
 * Client-side: an error after which the call may or may not have run (the connection dropped
 * while it was in flight). With an idempotency key it is safe to send again.
 */
export function outcomeUnknown(error: unknown): boolean {
  return isGranaryError(error, "CONNECTION_ERROR") && !error.retryable;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

interface Seen {
  readonly method: string;
  readonly args: string;
  /** Version of the call's last committed event. */
  version: number;
  reply: string | undefined;
  /** Known only to the activation that ran the call. */
  outcome: Outcome | undefined;
}

/** One actor's recent idempotency keys: loaded lazily from its last events, then kept by its commits. */
export class IdempotencyTable {
  readonly #entries = new Map<string, Seen>();
  #loading: Promise<void> | undefined;

  constructor(
    readonly actor: string,
    readonly store: EventStore,
    readonly window: number = IDEMPOTENCY_WINDOW_EVENTS,
  ) {}

  /** Resolves once the keys of the actor's last `window` events (up to `version`) are known. */
  ready(version: number): Promise<void> {
    this.#loading ??= this.#load(version).catch((error: unknown) => {
      this.#loading = undefined;
      throw error;
    });
    return this.#loading;
  }

  async #load(version: number): Promise<void> {
    if (version === 0) return;
    const events = await this.store.read(this.actor, Math.max(1, version - this.window + 1));
    for (const event of events) {
      const record = event.metadata.idempotency;
      if (record && event.version <= version) this.#note(record, event.version, undefined);
    }
  }

  /**
   * The first run of `key`, if it committed events.
   * @throws IdempotencyKeyReusedError when the key was used for another method or other arguments
   */
  lookup(key: string, method: string, args: string): Seen | undefined {
    const seen = this.#entries.get(key);
    if (seen && (seen.method !== method || seen.args !== args)) {
      throw new IdempotencyKeyReusedError(this.actor, key, seen.method);
    }
    return seen;
  }

  /** Answers a retry with the first outcome, without running anything. */
  replay(key: string, seen: Seen): unknown {
    const outcome = seen.outcome;
    if (outcome) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    if (seen.reply !== undefined) return decode(Buffer.from(seen.reply, "base64"));
    throw new AlreadyExecutedError(this.actor, key, seen.version);
  }

  /** A keyed call's events were committed (in the same append as `record`). */
  committed(record: IdempotencyRecord, lastVersion: number): void {
    this.#note(record, lastVersion, undefined);
  }

  /** The call that committed events under `key` ended with `outcome`. */
  settled(key: string, outcome: Outcome): void {
    const seen = this.#entries.get(key);
    if (seen) seen.outcome = outcome;
  }

  /** Number of keys remembered (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  #note(record: IdempotencyRecord, version: number, outcome: Outcome | undefined): void {
    const entries = this.#entries;
    const known = entries.get(record.key);
    if (known && known.version >= version) return;
    entries.delete(record.key);
    entries.set(record.key, {
      method: record.method,
      args: record.args,
      version,
      reply: record.reply ?? known?.reply,
      outcome: outcome ?? known?.outcome,
    });
    // Map order is commit order: forget keys whose events left the window.
    for (const [key, seen] of entries) {
      if (seen.version > version - this.window) break;
      entries.delete(key);
    }
  }
}
