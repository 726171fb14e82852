export { type DirectoryFactory, type DirectoryHarness, directoryConformance } from "./directory-conformance.js";
export { eventStoreConformance } from "./event-store-conformance.js";
export type { EventStoreFactory, SnapshotStoreFactory, StoreOpenOptions } from "./factory.js";
export { eventually, makeEvent, makeEvents, rejectionOf } from "./fixtures.js";
export { type KeyStoreFactory, keyStoreConformance } from "./key-store-conformance.js";
export { type MembershipFactory, membershipConformance } from "./membership-conformance.js";
export { type ProjectionStoreFactory, projectionStoreConformance } from "./projection-store-conformance.js";
export { type ReminderStoreFactory, reminderStoreConformance } from "./reminder-store-conformance.js";
export { snapshotStoreConformance } from "./snapshot-store-conformance.js";
