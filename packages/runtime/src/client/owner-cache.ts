/**
 * Which silo ("host:port") owns which actor, as the client last learned it from replies. A cache,
 * never the truth: the silo a call goes to checks ownership itself, so a wrong entry costs one
 * forward (whose reply corrects it), not correctness.
 *
 * Bounded, least recently used out first. Moving an entry to the young end on every hit would cost
 * a Map delete and insert per call, so a hit moves it only once it has aged past half the capacity
 * (the "older half"): a hot entry moves about once per `capacity / 2` insertions and is never the
 * one evicted.
 */
export class OwnerCache {
  readonly #entries = new Map<string, Entry>();
  /** Insertions so far: an entry's age is `#inserted - entry.insertedAt`. */
  #inserted = 0;

  /** @param capacity entries kept; 0 keeps none (every call goes to the next gateway in turn) */
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(actorKey: string): string | undefined {
    const entry = this.#entries.get(actorKey);
    if (entry === undefined) return undefined;
    if (this.#inserted - entry.insertedAt > this.capacity / 2) {
      this.#entries.delete(actorKey);
      entry.insertedAt = this.#inserted++;
      this.#entries.set(actorKey, entry);
    }
    return entry.owner;
  }

  set(actorKey: string, owner: string): void {
    if (this.capacity === 0) return;
    const entry = this.#entries.get(actorKey);
    if (entry !== undefined) {
      // Same owner: nothing changed, and a hit already keeps hot entries young.
      if (entry.owner === owner) return;
      this.#entries.delete(actorKey);
    } else if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(actorKey, { owner, insertedAt: this.#inserted++ });
  }

  delete(actorKey: string): void {
    this.#entries.delete(actorKey);
  }

  /** Keeps only the entries whose owner `keep` accepts (silos that left membership own nothing). */
  retainOwners(keep: (owner: string) => boolean): void {
    for (const [key, entry] of this.#entries) if (!keep(entry.owner)) this.#entries.delete(key);
  }
}

interface Entry {
  readonly owner: string;
  insertedAt: number;
}
