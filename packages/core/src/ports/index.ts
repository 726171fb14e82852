export type { Clock, TimerHandle } from "./clock.js";
export { systemClock } from "./clock.js";
export type * from "./directory.js";
export type * from "./event-store.js";
export { ManualClock } from "./manual-clock.js";
export type * from "./membership.js";
export type * from "./reminder-store.js";
export type * from "./snapshot-store.js";
