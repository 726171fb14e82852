/**
 * Read-side requests from clients travel as ordinary call frames to reserved actor types, answered
 * by the gateway silo itself (never routed to an actor), so the wire format needs nothing new:
 *
 * - `$granary.query` / `<projection name>` / `get` `[version, key, options]`, `list`
 *   `[version, options]`, `count` `[version, options]`
 * - `$granary.events` / `-` / `open` `[request]` → id, `poll` `[id, waitMs]`, `close` `[id]`
 * - `$granary.projection` / `<name>@v<version>` / `purged` `[stream]` (silo to silo, routed to the owner)
 */
export const QUERY_ACTOR_TYPE = "$granary.query";
export const EVENTS_ACTOR_TYPE = "$granary.events";
/**
 * A projection's owner, as the directory knows it (`$granary.projection/<name>@v<version>`): silos
 * route `purged` `[stream]` notices to it like calls to an actor.
 */
export const PROJECTION_ACTOR_TYPE = "$granary.projection";
/** Prefix of every reserved type: actor classes cannot use it (types are identifiers). */
export const SYSTEM_TYPE_PREFIX = "$granary.";
