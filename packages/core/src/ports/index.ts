export type { Clock, TimerHandle } from "./clock.js";
export { systemClock } from "./clock.js";
export type * from "./directory.js";
export type * from "./event-store.js";
export { DATA_KEY_BYTES, type KeyStore, type SubjectKey } from "./key-store.js";
export { ManualClock } from "./manual-clock.js";
export type * from "./membership.js";
export type * from "./snapshot-store.js";
