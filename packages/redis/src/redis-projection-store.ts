import {
  type Checkpoint,
  CheckpointConflictError,
  checkListOptions,
  type DocumentPage,
  type JsonValue,
  type ListDocumentsOptions,
  type ProjectionCommit,
  ProjectionFencedError,
  type ProjectionStore,
  validateCommit,
} from "@granary/core";
import { RedisConnection } from "./internal/connection.js";
import { storeKeys } from "./internal/keys.js";
import { PROJECTION_COMMIT, PROJECTION_DROP } from "./internal/projection-scripts.js";
import { type RedisSnapshotStoreOptions, resolveRedisOptions } from "./redis-options.js";

/**
 * Projection documents and checkpoints in the event store's Redis, in the namespace's hash slot:
 * per projection a HASH of JSON documents, a ZSET of its keys (for ordered paging with
 * ZRANGEBYLEX) and a checkpoint HASH. A commit is one Lua script, so fencing, the expected-position
 * check, the documents and the checkpoint are one atomic step. No `transaction` callbacks.
 *
 * @example
 * const events = new RedisEventStore({ redis: url });
 * const projections = events.openProjectionStore();
 */
export class RedisProjectionStore implements ProjectionStore {
  readonly namespace: string;
  readonly #connection: RedisConnection;
  readonly #base: string;
  readonly #feed: string;
  readonly #registry: string;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: RedisSnapshotStoreOptions) {
    const resolved = resolveRedisOptions(options);
    this.namespace = resolved.namespace;
    this.#connection = new RedisConnection(resolved);
    const keys = storeKeys(resolved.keyPrefix, resolved.namespace);
    this.#feed = keys.feed;
    this.#base = `${resolved.keyPrefix}:{${resolved.namespace}}:projection:`;
    this.#registry = `${resolved.keyPrefix}:{${resolved.namespace}}:projections`;
  }

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    const [position, epoch, ready] = await this.#connection.run((c) =>
      c.hmget(this.#key(projection, "checkpoint"), "position", "epoch", "ready"),
    );
    if (position === null || position === undefined) return undefined;
    return { position: Number(position), epoch: Number(epoch ?? 0), ready: ready === "1" };
  }

  async commit(projection: string, commit: ProjectionCommit): Promise<void> {
    validateCommit(projection, commit);
    if (commit.transaction) {
      throw new TypeError("the Redis projection store has no transactions: `transaction` is for SQLite and PostgreSQL");
    }
    const args: (string | number)[] = [
      projection,
      commit.expectedPosition,
      commit.position,
      commit.epoch ?? 0,
      commit.ready ? 1 : 0,
    ];
    for (const [key, document] of commit.documents ?? []) {
      if (document === null) args.push("d", key, "");
      else args.push("s", key, JSON.stringify(document));
    }
    const reply = (await this.#connection.script(PROJECTION_COMMIT, this.#keys(projection), args)) as string[];
    if (reply[0] === "fenced") throw new ProjectionFencedError(projection, commit.epoch ?? 0, Number(reply[1]));
    if (reply[0] === "conflict") {
      throw new CheckpointConflictError(projection, commit.expectedPosition, Number(reply[1]));
    }
  }

  async getDocuments(projection: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const out = new Map<string, JsonValue>();
    if (keys.length === 0) return out;
    const values = await this.#connection.run((c) => c.hmget(this.#key(projection, "documents"), ...keys));
    keys.forEach((key, i) => {
      const json = values[i];
      if (json !== null && json !== undefined) out.set(key, JSON.parse(json) as JsonValue);
    });
    return out;
  }

  async getDocument(projection: string, key: string): Promise<JsonValue | undefined> {
    const json = await this.#connection.run((c) => c.hget(this.#key(projection, "documents"), key));
    return json === null ? undefined : (JSON.parse(json) as JsonValue);
  }

  async listDocuments(projection: string, options: ListDocumentsOptions): Promise<DocumentPage> {
    checkListOptions(options);
    const prefix = options.prefix ?? "";
    const after = options.after;
    // ZRANGEBYLEX bounds: `(` exclusive, `[` inclusive. Start after the cursor or at the prefix; stop
    // past the last key with the prefix.
    const min = after !== undefined && after >= prefix ? `(${after}` : prefix === "" ? "-" : `[${prefix}`;
    const max = prefix === "" ? "+" : `(${prefix}\u{10FFFF}`;
    const keys = await this.#connection.run((c) =>
      c.zrangebylex(this.#key(projection, "keys"), min, max, "LIMIT", 0, options.limit + 1),
    );
    const matching = keys.filter((k) => k.startsWith(prefix));
    const page = matching.slice(0, options.limit);
    const documents = await this.getDocuments(projection, page);
    return {
      items: page.flatMap((key) => {
        const document = documents.get(key);
        return document === undefined ? [] : [{ key, document }];
      }),
      next: matching.length > options.limit ? page.at(-1) : undefined,
    };
  }

  async countDocuments(projection: string): Promise<number> {
    return this.#connection.run((c) => c.hlen(this.#key(projection, "documents")));
  }

  async checkpoints(): Promise<Map<string, Checkpoint>> {
    const ids = await this.#connection.run((c) => c.smembers(this.#registry));
    const out = new Map<string, Checkpoint>();
    for (const id of ids) {
      const checkpoint = await this.checkpoint(id);
      if (checkpoint) out.set(id, checkpoint);
    }
    return out;
  }

  async drop(projection: string): Promise<void> {
    await this.#connection.script(PROJECTION_DROP, this.#keys(projection), [projection]);
  }

  async headPosition(): Promise<number> {
    const last = await this.#connection.run((c) => c.xrevrange(this.#feed, "+", "-", "COUNT", 1));
    const id = last[0]?.[0];
    return id === undefined ? 0 : Number.parseInt(id, 10);
  }

  /** Closes the connection if this store opened it (not one shared with the event store). */
  close(): Promise<void> {
    return this.#connection.close();
  }

  #key(projection: string, part: "checkpoint" | "documents" | "keys"): string {
    return `${this.#base}${projection}:${part}`;
  }

  #keys(projection: string): string[] {
    return [
      this.#key(projection, "checkpoint"),
      this.#key(projection, "documents"),
      this.#key(projection, "keys"),
      this.#registry,
    ];
  }
}
