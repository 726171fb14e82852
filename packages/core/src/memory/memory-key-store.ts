import type { KeyStore, SubjectKey } from "../ports/key-store.js";
import { assertSubject, newDataKey } from "../store-kit/data-keys.js";

/** The data behind one or more {@link MemoryKeyStore}s; share it to re-open or open namespaces side by side. */
export class MemoryKeyStorage {
  readonly keys = new Map<string, SubjectKey>();
}

export interface MemoryKeyStoreOptions {
  /** Tenant namespace: the store sees only its own subjects. @default "default" */
  readonly namespace?: string;
  readonly storage?: MemoryKeyStorage;
  /** Time source for createdAt/destroyedAt. @default Date.now */
  readonly now?: () => number;
}

/**
 * In-process key store, for tests and the in-memory silo. Keys die with the process, and with them
 * every personal field they encrypted: never pair it with a durable event store.
 */
export class MemoryKeyStore implements KeyStore {
  readonly #keys: Map<string, SubjectKey>;
  readonly #namespace: string;
  readonly #now: () => number;

  constructor(options: MemoryKeyStoreOptions = {}) {
    this.#keys = (options.storage ?? new MemoryKeyStorage()).keys;
    this.#namespace = options.namespace ?? "default";
    this.#now = options.now ?? Date.now;
  }

  async getOrCreate(subject: string): Promise<SubjectKey> {
    assertSubject(subject);
    const key = this.#id(subject);
    let entry = this.#keys.get(key);
    if (!entry) {
      entry = { status: "active", subject, key: newDataKey(), createdAt: this.#isoNow() };
      this.#keys.set(key, entry);
    }
    return copy(entry);
  }

  async get(subject: string): Promise<SubjectKey | undefined> {
    assertSubject(subject);
    const entry = this.#keys.get(this.#id(subject));
    return entry && copy(entry);
  }

  async destroy(subject: string): Promise<SubjectKey & { readonly status: "destroyed" }> {
    assertSubject(subject);
    const key = this.#id(subject);
    const entry = this.#keys.get(key);
    if (entry?.status === "destroyed") return entry;
    if (entry) entry.key.fill(0);
    const destroyed = { status: "destroyed", subject, destroyedAt: this.#isoNow() } as const;
    this.#keys.set(key, destroyed);
    return destroyed;
  }

  async close(): Promise<void> {}

  #id(subject: string): string {
    return `${this.#namespace}\u0000${subject}`;
  }

  #isoNow(): string {
    return new Date(this.#now()).toISOString();
  }
}

function copy(entry: SubjectKey): SubjectKey {
  return entry.status === "active" ? { ...entry, key: entry.key.slice() } : entry;
}
