/**
 * @granary/core — the Granary programming model and the ports every adapter implements.
 * No I/O lives here: stores, the silo and the transport are in other packages.
 *
 * @example
 * import { EventSourcedActor, DomainError } from "@granary/core";
 *
 * type AccountEvent = { type: "Deposited"; amount: number };
 * export class Account extends EventSourcedActor<{ balance: number }, AccountEvent> {
 *   static readonly type = "Account";
 *   initialState() { return { balance: 0 }; }
 *   apply(state: { balance: number }, event: AccountEvent) { return { balance: state.balance + event.amount }; }
 *   async deposit(amount: number): Promise<number> {
 *     if (amount <= 0) throw new DomainError("INVALID_AMOUNT", "amount must be positive");
 *     this.raise({ type: "Deposited", amount });
 *     return this.state.balance;
 *   }
 * }
 */
export { Actor } from "./actor/actor.js";
export {
  actorIdViolation,
  actorTypeViolation,
  assertActorIdentity,
  assertStreamName,
  isWellFormed,
  MAX_ACTOR_ID_BYTES,
  MAX_ACTOR_TYPE_BYTES,
  MAX_STREAM_NAME_BYTES,
} from "./actor/actor-identity.js";
export type { ActorClass, ActorRef, ActorRefFactory, CallOptions } from "./actor/actor-ref.js";
export { IDEMPOTENCY_WINDOW_EVENTS } from "./actor/actor-ref.js";
export {
  EventSourcedActor,
  type EventSourcedActorClass,
  type EventSourcingControl,
  type PendingEvent,
} from "./actor/event-sourced-actor.js";
export type { PastActorRef, PastCallOptions, PointInTime, TimeTravelRefFactory } from "./actor/past-ref.js";
export { assertWireData, type WireData } from "./actor/wire-data.js";
export { decode, encode } from "./codec.js";
export { type ErrorClass, fromWireError, toWireError, type WireError } from "./error-wire.js";
export * from "./errors.js";
export { assertCallMetadata, MAX_CALL_METADATA_BYTES } from "./events/call-metadata.js";
export {
  type DomainEvent,
  type EventEnvelope,
  type EventMetadata,
  type IdempotencyRecord,
  type RecordedEvent,
  streamOf,
} from "./events/envelope.js";
export {
  assertJsonCompatible,
  deepFreeze,
  type JsonObject,
  type JsonPrimitive,
  type JsonValue,
  MAX_PAYLOAD_DEPTH,
} from "./events/json-value.js";
export { type Upcaster, Upcasters } from "./events/upcasting.js";
export { MemoryDirectory, type MemoryDirectoryOptions } from "./memory/memory-directory.js";
export { MemoryEventStorage } from "./memory/memory-event-storage.js";
export { MemoryEventStore, type MemoryEventStoreOptions } from "./memory/memory-event-store.js";
export { MemoryKeyStorage, MemoryKeyStore, type MemoryKeyStoreOptions } from "./memory/memory-key-store.js";
export { MemoryMembership } from "./memory/memory-membership.js";
export { MemoryProjectionStore } from "./memory/memory-projection-store.js";
export {
  MemoryReminderStorage,
  MemoryReminderStore,
  type MemoryReminderStoreOptions,
} from "./memory/memory-reminder-store.js";
export {
  MemorySnapshotStorage,
  MemorySnapshotStore,
  type MemorySnapshotStoreOptions,
} from "./memory/memory-snapshot-store.js";
export { formatAddress, type HostPort, parseAddress, tryParseAddress } from "./options-kit/address.js";
export { describeValue } from "./options-kit/describe-value.js";
export { checkRedisUrl, isRedisUrl } from "./options-kit/redis-url.js";
export { checkUpcastersOption } from "./options-kit/upcasters-option.js";
export {
  isRedacted,
  type Personal,
  type PersonalData,
  type PersonalDataDeclaration,
  type PersonalDataRule,
  type Redacted,
  redacted,
} from "./personal-data/personal-data.js";
export * from "./ports/index.js";
// Read side: projections, their store kit and the event bus's subject patterns.
export * from "./projections/projection.js";
export * from "./projections/projection-errors.js";
export { checkCommit, checkListOptions, compareKeys, validateCommit } from "./projections/projection-store-kit.js";
export { matchTokens, SubjectPattern, subjectOf } from "./projections/subject-pattern.js";
export * from "./schedules/schedule-options.js";
// Adapter toolkit: shared building blocks for EventStore implementations.
export { canonicalJson, sameEventContent, validateAppend } from "./store-kit/append-validation.js";
export { clonePlain } from "./store-kit/clone.js";
export { assertSubject, MAX_SUBJECT_LENGTH, newDataKey } from "./store-kit/data-keys.js";
export { decodeRows, type RawEventRef, throwOnReadErrors } from "./store-kit/decode.js";
export {
  ChangeSignal,
  type FeedSource,
  startFeedSubscription,
  trackSubscription,
} from "./store-kit/feed-subscription.js";
export { MembershipWatcher, type MembershipWatcherSource, MembershipWatchers } from "./store-kit/membership-watcher.js";
export { validateRead, validateReadAll } from "./store-kit/read-validation.js";
export {
  REMINDER_COLUMNS,
  type ReminderRow,
  reminderFromRow,
  reminderRowValues,
} from "./store-kit/reminder-rows.js";
export { validateReminder } from "./store-kit/reminder-validation.js";
export { validateSnapshot } from "./store-kit/snapshot-validation.js";
