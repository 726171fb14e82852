import { hkdfSync } from "node:crypto";
import { type KeyStore, SubjectForgottenError, type SubjectKey } from "@granary/core";

/** Keys derived from one subject's data key, each for one purpose (HKDF-SHA256, distinct info strings). */
export interface SubjectCipherKeys {
  /** AES-256-GCM key of the subject's personal fields. */
  readonly enc: Buffer;
  /** HMAC key that derives the synthetic IVs of sealed fields. */
  readonly iv: Buffer;
  /** Input to the keys of snapshots that involve this subject. */
  readonly snapshot: Buffer;
}

export type SubjectKeyState =
  | { readonly status: "active"; readonly keys: SubjectCipherKeys }
  | { readonly status: "destroyed"; readonly destroyedAt: string }
  | { readonly status: "missing" };

export interface KeyCacheOptions {
  /** Most subjects kept. @default 10_000 */
  readonly maxEntries?: number;
  /**
   * How long an active key is used before it is read from the key store again: bounds how long a
   * silo that missed a forget elsewhere in the cluster could keep using a destroyed key.
   * @default 30_000 (ms)
   */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export const DEFAULT_KEY_CACHE_ENTRIES = 10_000;
export const DEFAULT_KEY_CACHE_TTL_MS = 30_000;

type Entry =
  | {
      readonly status: "active";
      readonly keys: SubjectCipherKeys;
      readonly expiresAt: number;
      /** Of the data key the keys were derived from: a subject has one key for good, so the same one. */
      readonly createdAt: string;
    }
  | { readonly status: "destroyed"; readonly destroyedAt: string };

function derive(key: Uint8Array, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), `granary/${purpose}/1`, 32));
}

/**
 * The silo's view of the key store: derived keys per subject, cached so an append does not wait for
 * the key store, and destroyed subjects remembered for good. Concurrent look-ups of one subject
 * share one key store request; a destroy wins over a look-up still in flight.
 */
export class KeyCache {
  readonly #store: KeyStore;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<SubjectKey | undefined>>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(store: KeyStore, options: KeyCacheOptions = {}) {
    this.#store = store;
    this.#maxEntries = options.maxEntries ?? DEFAULT_KEY_CACHE_ENTRIES;
    this.#ttlMs = options.ttlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  get store(): KeyStore {
    return this.#store;
  }

  /**
   * The subject's keys for encrypting, created in the key store if it has none.
   * @throws SubjectForgottenError when the subject was forgotten
   */
  async forWrite(subject: string): Promise<SubjectCipherKeys> {
    const state = this.#cached(subject) ?? (await this.#fetch(subject, true));
    if (state.status === "destroyed") throw new SubjectForgottenError(subject, state.destroyedAt);
    if (state.status === "missing") throw new Error(`the key store created no key for "${subject}"`);
    return state.keys;
  }

  /** The subject's keys if they are cached and active (the synchronous path of {@link forWrite}). */
  cachedKeys(subject: string): SubjectCipherKeys | undefined {
    const entry = this.#entries.get(subject);
    return entry?.status === "active" && entry.expiresAt > this.#now() ? entry.keys : undefined;
  }

  /** The subject's keys for decrypting: destroyed once forgotten, missing if the key store never had one. */
  async forRead(subject: string): Promise<SubjectKeyState> {
    return this.#cached(subject) ?? (await this.#fetch(subject, false));
  }

  /** Destroys the subject's key in the key store and here. */
  async destroy(subject: string): Promise<{ readonly subject: string; readonly destroyedAt: string }> {
    const destroyed = await this.#store.destroy(subject);
    this.markDestroyed(subject, destroyed.destroyedAt);
    return { subject, destroyedAt: destroyed.destroyedAt };
  }

  /** True when this cache already holds the subject as destroyed. */
  knownDestroyed(subject: string): boolean {
    return this.#entries.get(subject)?.status === "destroyed";
  }

  /** Records that a subject was forgotten (here, or on another silo that told us). */
  markDestroyed(subject: string, destroyedAt: string): void {
    this.#inFlight.delete(subject);
    this.#set(subject, { status: "destroyed", destroyedAt });
  }

  /** The entry unless it expired (an expired one stays until the key store answered again). */
  #cached(subject: string): SubjectKeyState | undefined {
    const entry = this.#entries.get(subject);
    if (!entry) return undefined;
    if (entry.status === "active" && entry.expiresAt <= this.#now()) return undefined;
    return entry;
  }

  async #fetch(subject: string, create: boolean): Promise<SubjectKeyState> {
    let request = this.#inFlight.get(subject);
    if (!request || create) {
      request = create ? this.#store.getOrCreate(subject) : this.#store.get(subject);
      this.#inFlight.set(subject, request);
    }
    let found: SubjectKey | undefined;
    try {
      found = await request;
    } finally {
      if (this.#inFlight.get(subject) === request) this.#inFlight.delete(subject);
    }
    // A destroy that happened while this look-up was in flight wins.
    const now = this.#entries.get(subject);
    if (now?.status === "destroyed") return now;
    if (!found) return { status: "missing" };
    if (found.status === "destroyed") {
      this.#set(subject, found);
      return found;
    }
    // An expired entry of the same key (same creation) keeps its derived keys: three HKDFs
    // (~45 µs) per subject per TTL saved; the look-up above still re-checks it is not destroyed.
    const entry: Entry = {
      status: "active",
      keys:
        now?.status === "active" && now.createdAt === found.createdAt
          ? now.keys
          : {
              enc: derive(found.key, "pii-enc"),
              iv: derive(found.key, "pii-iv"),
              snapshot: derive(found.key, "snapshot"),
            },
      expiresAt: this.#now() + this.#ttlMs,
      createdAt: found.createdAt,
    };
    found.key.fill(0);
    this.#set(subject, entry);
    return entry;
  }

  #set(subject: string, entry: Entry): void {
    this.#entries.delete(subject);
    this.#entries.set(subject, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
