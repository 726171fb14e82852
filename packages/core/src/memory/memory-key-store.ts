import type { KeyStore, SubjectKey } from "../ports/key-store.js";
import { assertSubject, newDataKey } from "../store-kit/data-keys.js";

/** The data behind one or more {@link MemoryKeyStore}s; share it to re-open or open namespaces side by side. */
export class MemoryKeyStorage {
  readonly keys = new Map<string, SubjectKey>();
  /** Listeners of every store on this storage, by namespace. */
  readonly watchers = new Set<{ namespace: string; listener: (subject: string, destroyedAt: string) => void }>();
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
  readonly #storage: MemoryKeyStorage;
  readonly #namespace: string;
  readonly #now: () => number;

  constructor(options: MemoryKeyStoreOptions = {}) {
    this.#storage = options.storage ?? new MemoryKeyStorage();
    this.#keys = this.#storage.keys;
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
    for (const watcher of this.#storage.watchers) {
      if (watcher.namespace === this.#namespace) watcher.listener(subject, destroyed.destroyedAt);
    }
    return destroyed;
  }

  /** Every store on the same storage and namespace tells its watchers (in process, synchronously). */
  watchDestroyed(listener: (subject: string, destroyedAt: string) => void): () => void {
    const watcher = { namespace: this.#namespace, listener };
    this.#storage.watchers.add(watcher);
    return () => {
      this.#storage.watchers.delete(watcher);
    };
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
