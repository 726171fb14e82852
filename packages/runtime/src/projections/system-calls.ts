/**
 * Read-side requests from clients travel as ordinary call frames to reserved actor types, answered
 * by the gateway silo itself (never routed to an actor), so the wire format needs nothing new:
 *
 * - `$granary.query` / `<projection name>` / `get` `[version, key, options]`, `list`
 *   `[version, options]`, `count` `[version, options]`
 * - `$granary.events` / `-` / `open` `[request]` → id, `poll` `[id, waitMs]`, `close` `[id]`
 */
export const QUERY_ACTOR_TYPE = "$granary.query";
export const EVENTS_ACTOR_TYPE = "$granary.events";
/**
 * Prefix of every reserved type: actor classes cannot use it (types are identifiers). Streams of
 * reserved types in the feed (purge notices) are the runtime's own, never shown on the event bus.
 */
export const SYSTEM_TYPE_PREFIX = "$granary.";
