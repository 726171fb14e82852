import type { EventEnvelope } from "@granary/core";
import { sealedSubject } from "./event-crypto.js";

/** Streams remembered at most; the oldest is forgotten first (it only costs a read of its events). */
const MAX_STREAMS = 10_000;

interface Known {
  /** The events 1..upTo are accounted for. */
  upTo: number;
  readonly subjects: Set<string>;
}

/**
 * Which data subjects sealed personal fields in a stream's events 1..v, learned from what passes
 * through this silo: sealed snapshots saved or loaded (their subject lists), stream reads and
 * successful appends, each only when it continues exactly where the known part ends. A sealed
 * snapshot must be bound to exactly these subjects; without this, every save re-read the events
 * since the previous snapshot (up to `snapshotEvery` of them) to collect their `kid`s.
 *
 * Anything that breaks the chain (an append after a version this silo did not see, as when the
 * actor ran elsewhere meanwhile) drops the stream, and the snapshot store reads the events again.
 */
export class StreamSubjects {
  readonly #streams = new Map<string, Known>();

  /** The sorted subjects of events 1..version, if exactly that is known. */
  at(stream: string, version: number): string[] | undefined {
    const known = this.#streams.get(stream);
    return known?.upTo === version ? [...known.subjects].sort() : undefined;
  }

  /** The subjects of events 1..version are exactly `subjects` (a snapshot's list). */
  learn(stream: string, version: number, subjects: readonly string[]): void {
    const known = this.#streams.get(stream);
    if (known && known.upTo >= version) return;
    this.#set(stream, { upTo: version, subjects: new Set(subjects) });
  }

  /** Events `fromVersion`.. as stored (sealed), read or appended: extends what is known if contiguous. */
  saw(stream: string, fromVersion: number, events: readonly EventEnvelope[]): void {
    if (events.length === 0) return;
    let known = this.#streams.get(stream);
    if (!known && fromVersion === 1) {
      known = { upTo: 0, subjects: new Set() };
      this.#set(stream, known);
    }
    if (!known || known.upTo + 1 < fromVersion) {
      // A gap: events this silo never saw.
      this.#streams.delete(stream);
      return;
    }
    for (const event of events) {
      if (event.version <= known.upTo) continue;
      if (event.version !== known.upTo + 1) {
        this.#streams.delete(stream);
        return;
      }
      const subject = sealedSubject(event);
      if (subject !== undefined) known.subjects.add(subject);
      known.upTo = event.version;
    }
  }

  forget(stream: string): void {
    this.#streams.delete(stream);
  }

  #set(stream: string, known: Known): void {
    this.#streams.delete(stream);
    this.#streams.set(stream, known);
    if (this.#streams.size > MAX_STREAMS) this.#streams.delete(this.#streams.keys().next().value as string);
  }
}
