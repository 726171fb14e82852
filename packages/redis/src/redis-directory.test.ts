import { directoryConformance, eventually, useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisDirectory } from "./redis-directory.js";
import { RedisMembership } from "./redis-membership.js";

const server = useRedisServer();
const quietLogger = { warn: () => {} };

const silo = (siloId: string) => ({ siloId, host: "127.0.0.1", port: 1, startedAt: 1 });

directoryConformance("RedisDirectory", {
  async open(cluster) {
    const directory = new RedisDirectory({ redis: server.url, cluster, logger: quietLogger });
    const membership = new RedisMembership({ redis: server.url, cluster, logger: quietLogger });
    const isLive = async (siloId: string) => (await membership.liveMembers()).some((m) => m.siloId === siloId);
    return {
      directory,
      join: (siloId) => membership.join(silo(siloId), 120_000),
      async expire(siloId) {
        await membership.join(silo(siloId), 1);
        await eventually(async () => !(await isLive(siloId)), `${siloId}'s lease expired`);
      },
      close: async () => {
        await Promise.all([directory.close(), membership.close()]);
      },
    };
  },
});

describe("RedisDirectory", () => {
  it("epochs keep growing even if Redis loses the per-actor epoch key (they are at least Redis time)", async () => {
    const directory = new RedisDirectory({ redis: server.url, cluster: "lost-epoch", logger: quietLogger });
    const membership = new RedisMembership({ redis: server.url, cluster: "lost-epoch", logger: quietLogger });
    const raw = new Redis(server.url);
    await membership.join(silo("silo-a"), 120_000);
    const first = await directory.register("Account/1", "silo-a", "act-1");
    await directory.unregister("Account/1", "act-1");

    await raw.del("granary:{lost-epoch}:dir-epoch:Account/1");
    const redisNowMs = async () => {
      const [seconds, micros] = await raw.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    await eventually(async () => (await redisNowMs()) > first.epoch, "Redis time passed the epoch");
    const second = await directory.register("Account/1", "silo-a", "act-2");

    expect(second.epoch).toBeGreaterThan(first.epoch);
    raw.disconnect();
    await Promise.all([directory.close(), membership.close()]);
  });

  it("keeps a per-silo set of owned actors, so removeSilo does not scan the directory", async () => {
    const directory = new RedisDirectory({ redis: server.url, cluster: "silo-sets", logger: quietLogger });
    const membership = new RedisMembership({ redis: server.url, cluster: "silo-sets", logger: quietLogger });
    const raw = new Redis(server.url);
    await membership.join(silo("silo-a"), 120_000);
    for (let i = 0; i < 1_200; i++) await directory.register(`A/${i}`, "silo-a", `act-${i}`);
    await directory.unregister("A/0", "act-0");

    expect(await raw.scard("granary:{silo-sets}:silo-actors:silo-a")).toBe(1_199);
    expect(await directory.removeSilo("silo-a")).toBe(1_199);
    expect(await raw.exists("granary:{silo-sets}:silo-actors:silo-a")).toBe(0);
    expect(await raw.keys("granary:{silo-sets}:dir:*")).toEqual([]);
    raw.disconnect();
    await Promise.all([directory.close(), membership.close()]);
  });
});
