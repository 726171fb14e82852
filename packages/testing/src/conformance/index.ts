export { eventStoreConformance } from "./event-store-conformance.js";
export type { EventStoreFactory, SnapshotStoreFactory, StoreOpenOptions } from "./factory.js";
export { eventually, makeEvent, makeEvents, rejectionOf } from "./fixtures.js";
export { snapshotStoreConformance } from "./snapshot-store-conformance.js";
