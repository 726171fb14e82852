/**
 * The key layout, in one place so operators can find their data with redis-cli.
 *
 * Every key of a namespace (or cluster) carries the same `{name}` segment: in Redis Cluster that is
 * the hash tag, so all keys one Lua script touches live in one slot and the script stays atomic.
 * Store keys and cluster keys use different words after the tag, so a namespace and a cluster may
 * have the same name.
 */

export interface StoreKeys {
  /** LIST of the stream's events as JSON, index = version - 1: `LRANGE <key> 0 -1`. */
  stream(stream: string): string;
  /** Highest fencing epoch accepted for the stream (STRING). */
  streamEpoch(stream: string): string;
  /** The purge tombstone as JSON (STRING). */
  tombstone(stream: string): string;
  /** HASH snapshot of Granary before snapshots were kept per version; only purge still deletes it. */
  snapshot(stream: string): string;
  /** ZSET of the stream's snapshots: score = version, member = `<snapshotVersion>|<snapshot JSON>`. */
  snapshots(stream: string): string;
  /** The stream's snapshot purge (JSON `{purgedAt, reason}`): saves for it are refused. */
  snapshotPurge(stream: string): string;
  /** LIST of the feed positions of one correlation id's events, in commit order (readCorrelated). */
  readonly correlationPrefix: string;
  /** Prefix of the stream keys, for scripts that resolve feed entries to events. */
  readonly streamPrefix: string;
  /** HASH event id → `<version>:<stream>`: event ids are unique per namespace. */
  readonly eventIds: string;
  /** The last feed position handed out (STRING counter). */
  readonly position: string;
  /** STREAM: entry id `<position>-0`, fields `stream` and `version`: `XRANGE <key> - +`. */
  readonly feed: string;
  /** Pub/sub channel announcing the last position after each append. */
  readonly feedChannel: string;
  /** The namespace's generation marker (STRING, random, created once): gone after FLUSHALL. */
  readonly generation: string;
}

export function storeKeys(keyPrefix: string, namespace: string): StoreKeys {
  const base = `${keyPrefix}:{${namespace}}`;
  return {
    stream: (stream) => `${base}:stream:${stream}`,
    streamEpoch: (stream) => `${base}:stream-epoch:${stream}`,
    tombstone: (stream) => `${base}:tombstone:${stream}`,
    snapshot: (stream) => `${base}:snapshot:${stream}`,
    snapshots: (stream) => `${base}:snapshots:${stream}`,
    snapshotPurge: (stream) => `${base}:snapshot-purged:${stream}`,
    streamPrefix: `${base}:stream:`,
    correlationPrefix: `${base}:correlation:`,
    eventIds: `${base}:event-ids`,
    position: `${base}:position`,
    feed: `${base}:feed`,
    feedChannel: `${base}:feed-changed`,
    generation: `${base}:generation`,
  };
}

export interface ClusterKeys {
  /** HASH silo id → SiloAddress JSON. */
  readonly members: string;
  /** ZSET silo id → lease expiry (Redis server time, ms). */
  readonly leases: string;
  /** Pub/sub channel of membership changes (JSON MembershipChange). */
  readonly membershipChannel: string;
  /** HASH directory entry: `siloId`, `activationId`, `epoch`. */
  entry(actorKey: string): string;
  /** Last epoch issued for the actor (STRING); outlives the entry. */
  epoch(actorKey: string): string;
  /** SET of the actor keys a silo owns, so removing a dead silo does not scan the directory. */
  siloActors(siloId: string): string;
  readonly entryPrefix: string;
  readonly siloActorsPrefix: string;
}

export function clusterKeys(keyPrefix: string, cluster: string): ClusterKeys {
  const base = `${keyPrefix}:{${cluster}}`;
  return {
    members: `${base}:members`,
    leases: `${base}:leases`,
    membershipChannel: `${base}:membership`,
    entry: (actorKey) => `${base}:dir:${actorKey}`,
    epoch: (actorKey) => `${base}:dir-epoch:${actorKey}`,
    siloActors: (siloId) => `${base}:silo-actors:${siloId}`,
    entryPrefix: `${base}:dir:`,
    siloActorsPrefix: `${base}:silo-actors:`,
  };
}
