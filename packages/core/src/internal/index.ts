/** Runtime-only hooks into actor instances. Not a public API: it may change in any release. */
export { type ActorHost, bindHost, eventSourcing } from "./actor-host.js";
