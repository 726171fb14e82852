import { assertSubject, type KeyStore, newDataKey, type SubjectKey } from "@granary/core";
import { RedisConnection } from "./internal/connection.js";
import { LUA_NOW_MS, LuaScript } from "./internal/lua-script.js";
import { type RedisSnapshotStoreOptions, resolveRedisOptions } from "./redis-options.js";

export type RedisKeyStoreOptions = RedisSnapshotStoreOptions;

/** KEYS: keys hash. ARGV: subject, candidate key (base64). Returns the subject's entry, creating it. */
const GET_OR_CREATE = new LuaScript(
  "granary-key-get-or-create",
  `${LUA_NOW_MS}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then return current end
local entry = cjson.encode({ key = ARGV[2], createdAt = now_ms() })
redis.call('HSET', KEYS[1], ARGV[1], entry)
return entry
`,
);

/**
 * KEYS: keys hash, forgotten channel. ARGV: subject. Replaces the entry by the record of its
 * destruction (kept if already destroyed) and announces it.
 */
const DESTROY = new LuaScript(
  "granary-key-destroy",
  `${LUA_NOW_MS}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current).destroyedAt then return current end
local entry = cjson.encode({ destroyedAt = now_ms() })
redis.call('HSET', KEYS[1], ARGV[1], entry)
redis.call('PUBLISH', KEYS[2], cjson.encode({ subject = ARGV[1], entry = entry }))
return entry
`,
);

interface Entry {
  readonly key?: string;
  readonly createdAt?: number;
  readonly destroyedAt?: number;
}

/**
 * Data keys on Redis: one HASH per namespace, `<keyPrefix>:{<namespace>}:subject-keys`, field =
 * subject, value = JSON `{ key (base64), createdAt }` or `{ destroyedAt }` once destroyed. Both
 * writes are Lua scripts, so concurrent silos agree on one key per subject and a destruction can
 * never be undone; a destruction is published on `<keyPrefix>:{<namespace>}:subject-forgotten`
 * (`watchDestroyed`). Times are the Redis server's clock.
 *
 * Destroying replaces the value in memory at once; the AOF keeps the old value until its next
 * rewrite (`BGREWRITEAOF`), an RDB file until the next save: rewrite after forgetting when the
 * disk copy must go too.
 *
 * @example
 * const keys = new RedisKeyStore({ redis: "redis://127.0.0.1:6379", namespace: "tenant-a" });
 */
export class RedisKeyStore implements KeyStore {
  readonly #connection: RedisConnection;
  readonly #hash: string;
  readonly #channel: string;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: RedisKeyStoreOptions) {
    const resolved = resolveRedisOptions(options);
    this.#connection = new RedisConnection(resolved);
    this.#hash = `${resolved.keyPrefix}:{${resolved.namespace}}:subject-keys`;
    this.#channel = `${resolved.keyPrefix}:{${resolved.namespace}}:subject-forgotten`;
  }

  async getOrCreate(subject: string): Promise<SubjectKey> {
    assertSubject(subject);
    const candidate = Buffer.from(newDataKey()).toString("base64");
    const raw = await this.#connection.script(GET_OR_CREATE, [this.#hash], [subject, candidate]);
    return decodeEntry(subject, raw as string);
  }

  async get(subject: string): Promise<SubjectKey | undefined> {
    assertSubject(subject);
    const raw = await this.#connection.run((c) => c.hget(this.#hash, subject));
    return raw === null ? undefined : decodeEntry(subject, raw);
  }

  async destroy(subject: string): Promise<SubjectKey & { readonly status: "destroyed" }> {
    assertSubject(subject);
    const raw = await this.#connection.script(DESTROY, [this.#hash, this.#channel], [subject]);
    return decodeEntry(subject, raw as string) as SubjectKey & { readonly status: "destroyed" };
  }

  /** Destructions by any silo on this Redis and namespace, through pub/sub (at most once). */
  watchDestroyed(listener: (subject: string, destroyedAt: string) => void): () => void {
    return this.#connection.listen(this.#channel, (message) => {
      try {
        const { subject, entry } = JSON.parse(message) as { subject: string; entry: string };
        const destroyed = decodeEntry(subject, entry);
        if (destroyed.status === "destroyed") listener(subject, destroyed.destroyedAt);
      } catch {
        // Not ours: ignore.
      }
    });
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }
}

function decodeEntry(subject: string, raw: string): SubjectKey {
  const entry = JSON.parse(raw) as Entry;
  if (entry.destroyedAt !== undefined) {
    return { status: "destroyed", subject, destroyedAt: new Date(entry.destroyedAt).toISOString() };
  }
  return {
    status: "active",
    subject,
    key: new Uint8Array(Buffer.from(entry.key as string, "base64")),
    createdAt: new Date(entry.createdAt as number).toISOString(),
  };
}
