import {
  assertJsonCompatible,
  type DocumentProjection,
  InvalidArgumentError,
  type JsonValue,
  type ProjectedEvent,
  type RecordedEvent,
} from "@granary/core";

/**
 * Documents the runner owns, kept between batches so a rebuild does not read back what it just
 * wrote. Only the owner writes a projection's documents (checkpoint writes are fenced), so the
 * cache cannot go stale while this runner owns it; it is cleared after any failed commit.
 */
export class DocumentCache {
  readonly #entries = new Map<string, JsonValue>();

  constructor(readonly capacity: number) {}

  get(key: string): JsonValue | undefined {
    return this.#entries.get(key);
  }

  set(key: string, document: JsonValue): void {
    if (this.capacity === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, document);
    if (this.#entries.size > this.capacity) {
      // Maps iterate in insertion order: the first key is the least recently written.
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The keys an event goes to, checked: undefined and [] skip it. */
export function keysOf(projection: DocumentProjection<unknown>, event: RecordedEvent, name: string): readonly string[] {
  const keys = projection.key(event as unknown as ProjectedEvent);
  if (keys === undefined) return [];
  const list = typeof keys === "string" ? [keys] : keys;
  if (!Array.isArray(list)) throw badKey(name, event, keys);
  for (const key of list) if (typeof key !== "string" || key === "") throw badKey(name, event, key);
  return list;
}

function badKey(name: string, event: RecordedEvent, key: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `projection "${name}": key() returned ${JSON.stringify(key)} for event ${event.type} at position ${event.position}; return a non-empty string, an array of them, or undefined to skip`,
    { projection: name, position: event.position },
  );
}

/**
 * Folds a batch of events into the documents they touch. `load` fetches the keys not in the cache
 * in one round trip. Returns the changed documents (what the commit writes).
 */
export async function foldBatch(
  projection: DocumentProjection<unknown>,
  name: string,
  events: readonly RecordedEvent[],
  cache: DocumentCache,
  load: (keys: readonly string[]) => Promise<Map<string, JsonValue>>,
  checkDocuments: boolean,
): Promise<Map<string, JsonValue>> {
  const routed = events.map((event) => keysOf(projection, event, name));
  const missing = new Set<string>();
  for (const keys of routed) for (const key of keys) if (cache.get(key) === undefined) missing.add(key);
  const loaded = missing.size > 0 ? await load([...missing]) : new Map<string, JsonValue>();
  const changed = new Map<string, JsonValue>();
  events.forEach((event, i) => {
    for (const key of routed[i] as readonly string[]) {
      const current = changed.get(key) ?? cache.get(key) ?? loaded.get(key) ?? projection.initialDocument(key);
      const next = projection.apply(current, event as unknown as ProjectedEvent, key) as JsonValue;
      if (checkDocuments) {
        try {
          assertJsonCompatible(next, `${name}[${JSON.stringify(key)}]`);
        } catch (error) {
          throw new InvalidArgumentError(
            `projection "${name}": apply() returned a document that is not plain JSON for event ${event.type} at position ${event.position}: ${(error as Error).message}`,
            { projection: name, position: event.position },
          );
        }
      }
      changed.set(key, next);
    }
  });
  return changed;
}
