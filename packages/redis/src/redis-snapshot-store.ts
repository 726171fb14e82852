import { assertStreamName, type Snapshot, type SnapshotStore, validateSnapshot } from "@granary/core";
import { RedisConnection } from "./internal/connection.js";
import { type StoreKeys, storeKeys } from "./internal/keys.js";
import { LuaScript } from "./internal/lua-script.js";
import { type RedisSnapshotStoreOptions, resolveRedisOptions } from "./redis-options.js";

/** KEYS: snapshot hash. ARGV: version, JSON. Keeps the stored snapshot if it is newer. */
const SAVE = new LuaScript(
  "granary-snapshot-save",
  `
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'snapshot', ARGV[2])
return 1
`,
);

/**
 * Snapshots on Redis: one HASH per stream with the version (compared by the save script) and the
 * snapshot as JSON (`redis-cli HGET <key> snapshot`). A cache of replay, never the source of truth.
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
    await this.#connection.script(SAVE, [this.#keys.snapshot(snapshot.stream)], [snapshot.version, json]);
  }

  async load(stream: string): Promise<Snapshot | undefined> {
    assertStreamName(stream);
    const json = await this.#connection.run((c) => c.hget(this.#keys.snapshot(stream), "snapshot"));
    return json === null ? undefined : (JSON.parse(json) as Snapshot);
  }

  async delete(stream: string): Promise<void> {
    assertStreamName(stream);
    await this.#connection.run((c) => c.del(this.#keys.snapshot(stream)));
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }
}
