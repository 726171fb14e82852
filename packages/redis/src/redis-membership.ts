import {
  InvalidArgumentError,
  type MemberInfo,
  type Membership,
  type MembershipChange,
  MembershipWatchers,
  messageOf,
  type SiloAddress,
  systemClock,
} from "@granary/core";
import { RedisConnection } from "./internal/connection.js";
import { type ClusterKeys, clusterKeys } from "./internal/keys.js";
import { JOIN, LEAVE, LIVE_MEMBERS, REMOVE_EXPIRED, RENEW } from "./internal/membership-scripts.js";
import { type RedisLogger, type RedisMembershipOptions, resolveRedisOptions } from "./redis-options.js";

/**
 * Cluster membership on Redis: a HASH of silo addresses and a ZSET of lease expiries, both in Redis
 * server time (every script reads TIME, so silos with skewed clocks agree on who is live). Changes
 * are published on a channel; `watch` also polls, so a lost message only delays a change.
 *
 * @example
 * const membership = new RedisMembership({ redis: "redis://127.0.0.1:6379", cluster: "prod" });
 * await membership.join({ siloId, host, port, startedAt: Date.now() }, 10_000);
 * setInterval(async () => { if (!(await membership.renew(siloId, 10_000))) selfFence(); }, 3_000);
 */
export class RedisMembership implements Membership {
  readonly #connection: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #logger: RedisLogger;
  readonly #pollIntervalMs: number;
  readonly #watchers = new MembershipWatchers();

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: RedisMembershipOptions) {
    const resolved = resolveRedisOptions(options);
    this.#connection = new RedisConnection(resolved);
    this.#keys = clusterKeys(resolved.keyPrefix, resolved.cluster);
    this.#logger = resolved.logger;
    this.#pollIntervalMs = resolved.watchPollIntervalMs;
  }

  /** Registers (or re-registers) the silo with a lease of `leaseMs` from now (Redis time). */
  async join(member: SiloAddress, leaseMs: number): Promise<void> {
    checkLease(leaseMs);
    if (typeof member.siloId !== "string" || member.siloId.length === 0) {
      throw new InvalidArgumentError("member.siloId must be a non-empty string");
    }
    const json = JSON.stringify({
      siloId: member.siloId,
      host: member.host,
      port: member.port,
      startedAt: member.startedAt,
    });
    await this.#connection.script(JOIN, this.#memberKeys(), [
      member.siloId,
      json,
      leaseMs,
      this.#keys.membershipChannel,
    ]);
  }

  /**
   * Extends the lease to `leaseMs` from now. False when the member is gone: removed as dead, left,
   * or its lease had already expired (then it is removed here). The silo must stop serving.
   */
  async renew(siloId: string, leaseMs: number): Promise<boolean> {
    checkLease(leaseMs);
    const renewed = await this.#connection.script(RENEW, this.#memberKeys(), [
      siloId,
      leaseMs,
      this.#keys.membershipChannel,
    ]);
    return renewed === 1;
  }

  async leave(siloId: string): Promise<void> {
    await this.#connection.script(LEAVE, this.#memberKeys(), [siloId, this.#keys.membershipChannel]);
  }

  async liveMembers(): Promise<MemberInfo[]> {
    const reply = (await this.#connection.script(LIVE_MEMBERS, this.#memberKeys(), [])) as string[];
    const members: MemberInfo[] = [];
    for (let i = 0; i + 2 < reply.length; i += 3) {
      const address = JSON.parse(reply[i + 1] as string) as SiloAddress;
      members.push({ ...address, leaseExpiresAt: Number(reply[i + 2]) });
    }
    return members;
  }

  async removeExpired(): Promise<string[]> {
    return (await this.#connection.script(REMOVE_EXPIRED, this.#memberKeys(), [
      this.#keys.membershipChannel,
    ])) as string[];
  }

  /**
   * Observes the cluster. The listener first gets a `joined` for every current live member, then
   * each change once. A member whose lease expires is reported `died` at the next poll even if no
   * silo has removed it yet.
   */
  watch(listener: (change: MembershipChange) => void): () => void {
    return this.#watchers.watch(
      {
        liveMembers: () => this.liveMembers(),
        listen: (onChange) =>
          this.#connection.listen(this.#keys.membershipChannel, (message) => {
            const change = parseChange(message);
            if (change) onChange(change);
          }),
        pollIntervalMs: this.#pollIntervalMs,
        clock: systemClock,
        listenerFailed: (error) =>
          this.#logger.warn({ err: messageOf(error) }, "a membership watch listener threw; the watch goes on"),
      },
      listener,
    );
  }

  async close(): Promise<void> {
    this.#watchers.stopAll();
    await this.#connection.close();
  }

  #memberKeys(): string[] {
    return [this.#keys.members, this.#keys.leases];
  }
}

function checkLease(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) {
    throw new InvalidArgumentError(`leaseMs must be a positive integer number of milliseconds, got ${leaseMs}`);
  }
}

/** A change as the membership scripts publish it; undefined for anything else on the channel. */
function parseChange(message: string): MembershipChange | undefined {
  let change: { kind?: unknown; siloId?: unknown; member?: SiloAddress; leaseExpiresAt?: unknown };
  try {
    change = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (change.kind === "joined" && change.member) {
    return { kind: "joined", member: { ...change.member, leaseExpiresAt: Number(change.leaseExpiresAt) } };
  }
  if ((change.kind === "left" || change.kind === "died") && typeof change.siloId === "string") {
    return { kind: change.kind, siloId: change.siloId };
  }
  return undefined;
}
