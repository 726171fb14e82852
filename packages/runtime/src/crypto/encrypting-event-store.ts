import type {
  AppendOptions,
  AppendResult,
  CorrelatedReadOptions,
  EventEnvelope,
  EventReadError,
  EventStore,
  ProjectionStore,
  PurgeRequest,
  ReadOptions,
  ReadWithErrorsResult,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  Tombstone,
} from "@granary/core";
import { messageOf, providesProjectionStore } from "@granary/core";
import { readCorrelated } from "../history/correlated-read.js";
import { openEvent, sealEvents } from "./event-crypto.js";
import type { KeyCache } from "./key-cache.js";
import type { PersonalDataRules } from "./personal-data-rules.js";
import type { StreamSubjects } from "./stream-subjects.js";

/**
 * The silo's event store when actors declare personal data: declared fields are encrypted per data
 * subject before `append` reaches the store, and every read path (`read`, `readWithErrors`,
 * `readAll`, `readCorrelated`, `subscribe`) decrypts them, or shows the redaction marker for a
 * forgotten subject. The projection store is the inner store's (documents are the application's).
 * Whatever reads through the silo (replay, `loadHistory`, history, projections) sees the same.
 */
export class EncryptingEventStore implements EventStore {
  readonly #inner: EventStore;
  readonly #rules: PersonalDataRules;
  readonly #keys: KeyCache;
  readonly #subjects: StreamSubjects | undefined;

  /** `subjects` learns which subjects each stream's events involve (shared with the snapshot store). */
  constructor(inner: EventStore, rules: PersonalDataRules, keys: KeyCache, subjects?: StreamSubjects) {
    this.#inner = inner;
    this.#rules = rules;
    this.#keys = keys;
    this.#subjects = subjects;
  }

  /** The store underneath, holding only ciphertext of personal fields. */
  get inner(): EventStore {
    return this.#inner;
  }

  async append(
    stream: string,
    expectedVersion: number,
    events: readonly EventEnvelope[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    const rules = this.#rules.forStream(stream);
    if (!rules) return this.#inner.append(stream, expectedVersion, events, options);
    const stored = await sealEvents(stream, events, rules, this.#keys);
    const result = await this.#inner.append(stream, expectedVersion, stored, options);
    this.#subjects?.saw(stream, expectedVersion + 1, stored);
    return result;
  }

  async read(stream: string, fromVersion?: number, options?: ReadOptions): Promise<RecordedEvent[]> {
    const stored = await this.#inner.read(stream, fromVersion, options);
    if (this.#subjects && this.#rules.forStream(stream)) this.#subjects.saw(stream, fromVersion ?? 1, stored);
    return this.#openAll(stored);
  }

  async readWithErrors(stream: string, fromVersion?: number): Promise<ReadWithErrorsResult> {
    const raw = await this.#inner.readWithErrors(stream, fromVersion);
    const events: RecordedEvent[] = [];
    const errors: EventReadError[] = [...raw.errors];
    for (const event of raw.events) {
      try {
        events.push(await openEvent(event, this.#keys));
      } catch (error) {
        errors.push({
          stream: event.stream,
          version: event.version,
          position: event.position,
          eventId: event.id,
          message: messageOf(error),
          cause: error,
        });
      }
    }
    errors.sort((a, b) => a.version - b.version);
    return { events, errors };
  }

  latestVersion(stream: string): Promise<number> {
    return this.#inner.latestVersion(stream);
  }

  highestEpoch(stream: string): Promise<number> {
    return this.#inner.highestEpoch(stream);
  }

  async readAll(fromPosition: number, limit?: number): Promise<RecordedEvent[]> {
    return this.#openAll(await this.#inner.readAll(fromPosition, limit));
  }

  async readCorrelated(correlationId: string, options?: CorrelatedReadOptions): Promise<RecordedEvent[]> {
    return this.#openAll(await readCorrelated(this.#inner, correlationId, options));
  }

  /** The projection store beside the store underneath, when it offers one. */
  get openProjectionStore(): (() => ProjectionStore) | undefined {
    const inner = this.#inner;
    return providesProjectionStore(inner) ? () => inner.openProjectionStore() : undefined;
  }

  subscribe(options: SubscribeOptions): Subscription {
    const keys = this.#keys;
    return this.#inner.subscribe({
      ...options,
      onEvent: async (event) => options.onEvent(await openEvent(event, keys)),
    });
  }

  purge(stream: string, request: PurgeRequest): Promise<Tombstone> {
    this.#subjects?.forget(stream);
    return this.#inner.purge(stream, request);
  }

  tombstone(stream: string): Promise<Tombstone | undefined> {
    return this.#inner.tombstone(stream);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #openAll(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    for (let i = 0; i < events.length; i++) events[i] = await openEvent(events[i] as RecordedEvent, this.#keys);
    return events;
  }
}
