import type { JsonValue } from "../events/json-value.js";
import type {
  Checkpoint,
  DocumentPage,
  ListDocumentsOptions,
  ProjectionCommit,
  ProjectionStore,
} from "../ports/projection-store.js";
import { checkCommit, checkListOptions, compareKeys } from "../projections/projection-store-kit.js";
import { clonePlain } from "../store-kit/clone.js";
import type { MemoryEventStorage } from "./memory-event-storage.js";

interface ProjectionData {
  checkpoint: Checkpoint | undefined;
  readonly documents: Map<string, JsonValue>;
}

/** namespace → projection id → data, kept beside the event storage it belongs to. */
const byStorage = new WeakMap<MemoryEventStorage, Map<string, Map<string, ProjectionData>>>();

/**
 * Projection documents and checkpoints in memory, beside a {@link MemoryEventStorage}: they live as
 * long as the storage, so a test can stop and start silos over it. Commits are synchronous, hence
 * atomic. Documents are cloned in and out.
 */
export class MemoryProjectionStore implements ProjectionStore {
  readonly namespace: string;
  readonly #storage: MemoryEventStorage;
  readonly #projections: Map<string, ProjectionData>;

  constructor(storage: MemoryEventStorage, namespace = "default") {
    this.#storage = storage;
    this.namespace = namespace;
    let namespaces = byStorage.get(storage);
    if (!namespaces) {
      namespaces = new Map();
      byStorage.set(storage, namespaces);
    }
    let projections = namespaces.get(namespace);
    if (!projections) {
      projections = new Map();
      namespaces.set(namespace, projections);
    }
    this.#projections = projections;
  }

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    return this.#projections.get(projection)?.checkpoint;
  }

  async commit(projection: string, commit: ProjectionCommit): Promise<void> {
    if (commit.transaction) {
      throw new TypeError(
        "the memory projection store has no transactions: `transaction` is for SQLite and PostgreSQL",
      );
    }
    const data = this.#data(projection);
    const next = checkCommit(projection, data.checkpoint, commit);
    for (const [key, document] of commit.documents ?? []) {
      if (document === null) data.documents.delete(key);
      else data.documents.set(key, clonePlain(document));
    }
    data.checkpoint = next;
  }

  async getDocuments(projection: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const documents = this.#projections.get(projection)?.documents;
    const out = new Map<string, JsonValue>();
    if (!documents) return out;
    for (const key of keys) {
      const document = documents.get(key);
      if (document !== undefined) out.set(key, clonePlain(document));
    }
    return out;
  }

  async getDocument(projection: string, key: string): Promise<JsonValue | undefined> {
    const document = this.#projections.get(projection)?.documents.get(key);
    return document === undefined ? undefined : clonePlain(document);
  }

  async listDocuments(projection: string, options: ListDocumentsOptions): Promise<DocumentPage> {
    checkListOptions(options);
    const documents = this.#projections.get(projection)?.documents;
    if (!documents) return { items: [], next: undefined };
    const keys = [...documents.keys()]
      .filter(
        (k) => (options.after === undefined || compareKeys(k, options.after) > 0) && k.startsWith(options.prefix ?? ""),
      )
      .sort(compareKeys);
    const page = keys.slice(0, options.limit);
    return {
      items: page.map((key) => ({ key, document: clonePlain(documents.get(key) as JsonValue) })),
      next: keys.length > options.limit ? page.at(-1) : undefined,
    };
  }

  async countDocuments(projection: string): Promise<number> {
    return this.#projections.get(projection)?.documents.size ?? 0;
  }

  async checkpoints(): Promise<Map<string, Checkpoint>> {
    const out = new Map<string, Checkpoint>();
    for (const [id, data] of this.#projections) if (data.checkpoint) out.set(id, data.checkpoint);
    return out;
  }

  async drop(projection: string): Promise<void> {
    this.#projections.delete(projection);
  }

  async headPosition(): Promise<number> {
    const feed = this.#storage.feed;
    for (let i = feed.length - 1; i >= 0; i--) {
      const entry = feed[i];
      if (entry?.namespace === this.namespace) return entry.event.position;
    }
    return 0;
  }

  async close(): Promise<void> {}

  #data(projection: string): ProjectionData {
    let data = this.#projections.get(projection);
    if (!data) {
      data = { checkpoint: undefined, documents: new Map() };
      this.#projections.set(projection, data);
    }
    return data;
  }
}
