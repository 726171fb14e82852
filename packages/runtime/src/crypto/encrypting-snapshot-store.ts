import { type EventStore, messageOf, type Snapshot, type SnapshotStore } from "@granary/core";
import type { Logger } from "pino";
import { sealedSubject } from "./event-crypto.js";
import type { KeyCache, SubjectCipherKeys } from "./key-cache.js";
import type { PersonalDataRules } from "./personal-data-rules.js";
import { isSealedSnapshot, openSnapshot, sealSnapshot } from "./sealed-snapshot.js";
import type { StreamSubjects } from "./stream-subjects.js";

/**
 * Snapshots of actors that declare personal data are sealed under every involved subject's key
 * (see {@link SealedSnapshot}); other snapshots pass through. A snapshot that involves a forgotten
 * subject is invalidated: never written (save skips it and deletes the stored one) and never read
 * (load deletes it and answers "none", so the actor replays its events, which show the redaction
 * marker). A snapshot that fails to decrypt is treated as absent: snapshots are a cache of replay.
 */
export class EncryptingSnapshotStore implements SnapshotStore {
  readonly #inner: SnapshotStore;
  readonly #events: EventStore;
  readonly #rules: PersonalDataRules;
  readonly #keys: KeyCache;
  readonly #logger: () => Logger;
  readonly #subjects: StreamSubjects;

  /**
   * `events` is the raw event store (ciphertext), read to learn which subjects a stream involves
   * when `subjects` (shared with the silo's EncryptingEventStore) does not already know.
   */
  constructor(
    inner: SnapshotStore,
    events: EventStore,
    rules: PersonalDataRules,
    keys: KeyCache,
    logger: () => Logger,
    subjects: StreamSubjects,
  ) {
    this.#inner = inner;
    this.#events = events;
    this.#rules = rules;
    this.#keys = keys;
    this.#logger = logger;
    this.#subjects = subjects;
  }

  get inner(): SnapshotStore {
    return this.#inner;
  }

  async save(snapshot: Snapshot): Promise<void> {
    if (!this.#rules.forStream(snapshot.stream)) return this.#inner.save(snapshot);
    const subjects =
      this.#subjects.at(snapshot.stream, snapshot.version) ??
      (await this.#subjectsUpTo(snapshot.stream, snapshot.version));
    if (subjects === undefined) return;
    this.#subjects.learn(snapshot.stream, snapshot.version, subjects);
    if (subjects.length === 0) return this.#inner.save(snapshot);
    const keys = await this.#keysOf(subjects);
    if (!keys) {
      // A forgotten subject's data is in this state: no snapshot of it may exist.
      await this.#inner.delete(snapshot.stream);
      return;
    }
    const state = sealSnapshot(
      snapshot.state,
      snapshot.stream,
      snapshot.version,
      snapshot.snapshotVersion,
      subjects,
      keys,
    );
    await this.#inner.save({ ...snapshot, state: state as unknown as Snapshot["state"] });
  }

  async loadAtOrBelow(stream: string, maxVersion: number, snapshotVersion: number): Promise<Snapshot | undefined> {
    return this.#open(stream, await this.#inner.loadAtOrBelow(stream, maxVersion, snapshotVersion));
  }

  purge(stream: string, purge: Parameters<SnapshotStore["purge"]>[1]): Promise<void> {
    return this.#inner.purge(stream, purge);
  }

  async load(stream: string): Promise<Snapshot | undefined> {
    return this.#open(stream, await this.#inner.load(stream));
  }

  async #open(stream: string, stored: Snapshot | undefined): Promise<Snapshot | undefined> {
    if (!stored) return stored;
    if (!isSealedSnapshot(stored.state)) {
      // Such an actor's snapshot is saved in the clear only while no event carries personal data.
      if (this.#rules.forStream(stream)) this.#subjects.learn(stream, stored.version, []);
      return stored;
    }
    const sealed = stored.state;
    const keys = Array.isArray(sealed.subjects) ? await this.#keysOf(sealed.subjects) : undefined;
    if (!keys) {
      this.#logger().info({ actor: stream }, "snapshot involves a forgotten data subject: deleted, replaying events");
      await this.#inner.delete(stream);
      return undefined;
    }
    try {
      const state = openSnapshot(sealed, stream, stored.version, stored.snapshotVersion, keys);
      this.#subjects.learn(stream, stored.version, sealed.subjects);
      return { ...stored, state };
    } catch (error) {
      this.#logger().warn(
        { actor: stream, err: messageOf(error) },
        "sealed snapshot could not be decrypted (altered, or written under other keys); replaying events instead",
      );
      return undefined;
    }
  }

  delete(stream: string): Promise<void> {
    return this.#inner.delete(stream);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /**
   * Every subject whose sealed fields are in the stream's events 1..version, sorted: the previous
   * snapshot's list plus the events since it (so a save reads at most `snapshotEvery` events).
   * Undefined when the stored snapshot is already newer (the save would be ignored anyway).
   */
  async #subjectsUpTo(stream: string, version: number): Promise<string[] | undefined> {
    const previous = await this.#inner.load(stream);
    if (previous && previous.version > version) return undefined;
    const subjects = new Set<string>();
    let from = 1;
    if (previous && isSealedSnapshot(previous.state) && Array.isArray(previous.state.subjects)) {
      for (const subject of previous.state.subjects) subjects.add(subject);
      from = previous.version + 1;
    } else if (previous) {
      // A plain snapshot of such an actor is saved only while no event carries personal data.
      from = previous.version + 1;
    }
    while (from <= version) {
      const events = await this.#events.read(stream, from, { limit: version - from + 1 });
      if (events.length === 0) break;
      for (const event of events) {
        if (event.version > version) break;
        const subject = sealedSubject(event);
        if (subject !== undefined) subjects.add(subject);
      }
      from = (events[events.length - 1]?.version ?? version) + 1;
    }
    return [...subjects].sort();
  }

  /** The snapshot keys of every subject, or undefined when any of them is forgotten or missing. */
  async #keysOf(subjects: readonly string[]): Promise<SubjectCipherKeys[] | undefined> {
    const keys: SubjectCipherKeys[] = [];
    for (const subject of subjects) {
      if (typeof subject !== "string") return undefined;
      const state = await this.#keys.forRead(subject);
      if (state.status !== "active") return undefined;
      keys.push(state.keys);
    }
    return keys;
  }
}
