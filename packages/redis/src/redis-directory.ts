import { type Directory, type DirectoryEntry, InvalidArgumentError } from "@granary/core";
import { RedisConnection } from "./internal/connection.js";
import { LOOKUP, REGISTER, REMOVE_SILO_BATCH, UNREGISTER } from "./internal/directory-scripts.js";
import { type ClusterKeys, clusterKeys } from "./internal/keys.js";
import { type RedisDirectoryOptions, resolveRedisOptions } from "./redis-options.js";

const REMOVE_SILO_BATCH_SIZE = 500;

/**
 * The actor directory on Redis. `register` is one compare-and-set Lua script that also reads the
 * current owner's membership lease, so "take over only from a dead owner" is decided atomically.
 * Liveness comes from {@link RedisMembership} of the same `cluster` and `keyPrefix`: a silo must
 * have joined before its registrations are protected.
 *
 * @example
 * const directory = new RedisDirectory({ redis: "redis://127.0.0.1:6379", cluster: "prod" });
 * const owner = await directory.register("Account/acc-1", siloId, activationId);
 * if (owner.activationId !== activationId) forwardTo(owner.siloId);
 */
export class RedisDirectory implements Directory {
  readonly #connection: RedisConnection;
  readonly #keys: ClusterKeys;

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: RedisDirectoryOptions) {
    const resolved = resolveRedisOptions(options);
    this.#connection = new RedisConnection(resolved);
    this.#keys = clusterKeys(resolved.keyPrefix, resolved.cluster);
  }

  /** Registers unless a live silo owns the actor; returns the winner, with its fencing epoch. */
  async register(actorKey: string, siloId: string, activationId: string): Promise<DirectoryEntry> {
    checkNonEmpty({ actorKey, siloId, activationId });
    const reply = (await this.#connection.script(
      REGISTER,
      [this.#keys.entry(actorKey), this.#keys.epoch(actorKey), this.#keys.siloActors(siloId), this.#keys.leases],
      [actorKey, siloId, activationId, this.#keys.siloActorsPrefix],
    )) as [string, string, string, number];
    return { actorKey, siloId: reply[0], activationId: reply[1], epoch: Number(reply[2]) };
  }

  /** The owner, or undefined when there is none or its silo's lease expired. One round trip. */
  async lookup(actorKey: string): Promise<DirectoryEntry | undefined> {
    const reply = (await this.#connection.script(LOOKUP, [this.#keys.entry(actorKey), this.#keys.leases], [])) as (
      | string
      | null
    )[];
    const [siloId, activationId, epoch] = reply;
    if (!siloId || !activationId || !epoch) return undefined;
    return { actorKey, siloId, activationId, epoch: Number(epoch) };
  }

  /** Removes the entry only if `activationId` still owns it. */
  async unregister(actorKey: string, activationId: string): Promise<boolean> {
    const removed = await this.#connection.script(
      UNREGISTER,
      [this.#keys.entry(actorKey)],
      [actorKey, activationId, this.#keys.siloActorsPrefix],
    );
    return removed === 1;
  }

  /** Removes the entries a (dead) silo owns, in batches, using its actor set instead of a scan. */
  async removeSilo(siloId: string): Promise<number> {
    let removed = 0;
    for (;;) {
      const [count, remaining] = (await this.#connection.script(
        REMOVE_SILO_BATCH,
        [this.#keys.siloActors(siloId)],
        [siloId, this.#keys.entryPrefix, REMOVE_SILO_BATCH_SIZE],
      )) as [number, number];
      removed += count;
      if (remaining === 0) return removed;
    }
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }
}

function checkNonEmpty(values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== "string" || value.length === 0) {
      throw new InvalidArgumentError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
    }
  }
}
