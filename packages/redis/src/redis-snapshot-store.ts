import {
  assertStreamName,
  type Snapshot,
  type SnapshotPurge,
  type SnapshotStore,
  StreamPurgedError,
  validateSnapshot,
} from "@granary/core";
import { RedisConnection } from "./internal/connection.js";
import { type StoreKeys, storeKeys } from "./internal/keys.js";
import { LuaScript } from "./internal/lua-script.js";
import { type RedisSnapshotStoreOptions, resolveRedisOptions } from "./redis-options.js";

/**
 * KEYS: snapshots zset, event tombstone, snapshot purge. ARGV: version, member.
 * Refuses ({"purged", json}) when the stream was purged, else replaces the snapshot at that version.
 */
const SAVE = new LuaScript(
  "granary-snapshot-save-v2",
  `
local purged = redis.call('GET', KEYS[2]) or redis.call('GET', KEYS[3])
if purged then return {'purged', purged} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return {'ok'}
`,
);

/** KEYS: snapshots zset. ARGV: max version, snapshotVersion. The newest matching member, or nil. */
const LOAD_AT_OR_BELOW = new LuaScript(
  "granary-snapshot-load-at-or-below",
  `
local prefix = ARGV[2] .. '|'
local offset = 0
while true do
  local members = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', offset, 50)
  if #members == 0 then return false end
  for _, member in ipairs(members) do
    if string.sub(member, 1, #prefix) == prefix then return member end
  end
  offset = offset + #members
end
`,
);

/** KEYS: snapshots zset, legacy snapshot hash, snapshot purge. ARGV: purge JSON. */
const PURGE = new LuaScript(
  "granary-snapshot-purge",
  `
redis.call('SET', KEYS[3], ARGV[1], 'NX')
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`,
);

/**
 * Snapshots on Redis: one ZSET per stream scored by version, each member the snapshot JSON after
 * its snapshotVersion (`redis-cli ZRANGE <key> 0 -1 WITHSCORES`). Every snapshot is kept so that
 * `loadAtOrBelow` (stateAt) can start near any version. The save script refuses a stream whose
 * events are tombstoned or whose snapshots were purged, atomically with its write.
 *
 * @example
 * const snapshots = new RedisSnapshotStore({ redis: "redis://127.0.0.1:6379", namespace: "tenant-a" });
 */
export class RedisSnapshotStore implements SnapshotStore {
  readonly #connection: RedisConnection;
  readonly #keys: StoreKeys;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: RedisSnapshotStoreOptions) {
    const resolved = resolveRedisOptions(options);
    this.#connection = new RedisConnection(resolved);
    this.#keys = storeKeys(resolved.keyPrefix, resolved.namespace);
  }

  async save(snapshot: Snapshot): Promise<void> {
    validateSnapshot(snapshot);
    const json = JSON.stringify({
      stream: snapshot.stream,
      version: snapshot.version,
      snapshotVersion: snapshot.snapshotVersion,
      state: snapshot.state,
      timestamp: snapshot.timestamp,
    });
    const stream = snapshot.stream;
    const reply = (await this.#connection.script(
      SAVE,
      [this.#keys.snapshots(stream), this.#keys.tombstone(stream), this.#keys.snapshotPurge(stream)],
      [snapshot.version, `${snapshot.snapshotVersion}|${json}`],
    )) as string[];
    if (reply[0] === "purged") {
      const purge = JSON.parse(String(reply[1])) as SnapshotPurge;
      throw new StreamPurgedError(stream, purge.purgedAt, purge.reason);
    }
  }

  async load(stream: string): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    const members = await this.#connection.run((c) => c.zrange(this.#keys.snapshots(stream), -1, -1));
    return decodeMember(members[0]);
  }

  async loadAtOrBelow(stream: string, maxVersion: number, snapshotVersion: number): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    const member = (await this.#connection.script(
      LOAD_AT_OR_BELOW,
      [this.#keys.snapshots(stream)],
      [maxVersion, snapshotVersion],
    )) as string | null;
    return decodeMember(member ?? undefined);
  }

  async delete(stream: string): Promise<void> {
    assertStreamName(stream);
    await this.#connection.run((c) => c.del(this.#keys.snapshots(stream), this.#keys.snapshot(stream)));
  }

  /** Deletes every snapshot of the stream and refuses later saves (AOF: see RedisEventStore.purge). */
  async purge(stream: string, purge: SnapshotPurge): Promise<void> {
    assertStreamName(stream);
    await this.#connection.script(
      PURGE,
      [this.#keys.snapshots(stream), this.#keys.snapshot(stream), this.#keys.snapshotPurge(stream)],
      [JSON.stringify({ purgedAt: purge.purgedAt, reason: purge.reason })],
    );
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }
}

function decodeMember(member: string | undefined): Snapshot | undefined {
  if (member === undefined) return undefined;
  return JSON.parse(member.slice(member.indexOf("|") + 1)) as Snapshot;
}
