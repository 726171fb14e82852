import { ErrorCode, type GranaryError, type MembershipChange } from "@granary/core";
import { eventually, makeEvents, type RedisServer, startRedisServer } from "@granary/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisDirectory } from "./redis-directory.js";
import { RedisEventStore } from "./redis-event-store.js";
import { RedisMembership } from "./redis-membership.js";

const quietLogger = { warn: () => {} };
/** Only a guard against hanging; the tests assert that the call fails, not how fast. */
const HANG_GUARD_MS = 20_000;

/** The error `promise` rejects with; a hang past the guard fails the test with a clear message. */
async function failureOf(promise: Promise<unknown>, what: string): Promise<GranaryError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung instead of failing`)), HANG_GUARD_MS);
  });
  try {
    await Promise.race([promise, hang]);
  } catch (error) {
    return error as GranaryError;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${what} succeeded while Redis was down`);
}

describe("Redis unreachable for a while, then back", () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer({ appendonly: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("lookups and appends fail with ConnectionError naming the server while it is down, and work again after it returns", async () => {
    const store = new RedisEventStore({ redis: server.url, logger: quietLogger });
    const directory = new RedisDirectory({ redis: server.url, logger: quietLogger });
    const membership = new RedisMembership({ redis: server.url, logger: quietLogger });
    await membership.join({ siloId: "silo-a", host: "127.0.0.1", port: 1, startedAt: 1 }, 120_000);
    const entry = await directory.register("Account/1", "silo-a", "act-1");
    await store.append("Account/1", 0, makeEvents("Account/1", 0, 1), { epoch: entry.epoch });

    await server.stop({ keepData: true });

    const lookupError = await failureOf(directory.lookup("Account/1"), "lookup");
    const appendError = await failureOf(store.append("Account/1", 1, makeEvents("Account/1", 1, 1)), "append");
    for (const error of [lookupError, appendError]) {
      expect(error).toMatchObject({ name: "ConnectionError", code: ErrorCode.Connection });
      expect(error.message).toContain(server.url);
    }
    // Still failing fast, not queueing, on the next attempts.
    expect(await failureOf(store.read("Account/1"), "read")).toMatchObject({ code: ErrorCode.Connection });

    await server.restart();

    await eventually(async () => {
      try {
        return (await directory.lookup("Account/1"))?.activationId === "act-1";
      } catch {
        return false;
      }
    }, "the directory answers again");
    await eventually(async () => {
      try {
        await store.append("Account/1", 1, makeEvents("Account/1", 1, 1), { epoch: entry.epoch });
        return true;
      } catch (error) {
        if ((error as GranaryError).code !== ErrorCode.Connection) throw error;
        return false;
      }
    }, "appends work again");
    expect((await store.read("Account/1")).map((e) => e.version)).toEqual([1, 2]);
    await Promise.all([store.close(), directory.close(), membership.close()]);
  });

  it("a hung server (paused) makes commands fail with ConnectionError after commandTimeoutMs", async () => {
    const store = new RedisEventStore({ redis: server.url, logger: quietLogger, commandTimeoutMs: 300 });
    await store.latestVersion("s/1");

    server.pause();
    try {
      const error = await failureOf(store.append("s/1", 0, makeEvents("s/1", 0, 1)), "append");
      expect(error).toMatchObject({ code: ErrorCode.Connection });
      expect(error.message).toContain("commandTimeoutMs");
    } finally {
      server.resume();
    }

    await eventually(async () => {
      try {
        await store.latestVersion("s/1");
        return true;
      } catch {
        return false;
      }
    }, "the store answers again");
    await store.close();
  });

  it("a store whose Redis was never reachable fails with ConnectionError instead of hanging", async () => {
    const dead = await startRedisServer();
    await dead.stop();
    const store = new RedisEventStore({ redis: dead.url, logger: quietLogger, connectTimeoutMs: 500 });

    const error = await failureOf(store.append("s/1", 0, makeEvents("s/1", 0, 1)), "append");

    expect(error).toMatchObject({ code: ErrorCode.Connection, retryable: true });
    expect(error.message).toContain(dead.url);
    await store.close();
  });
});

describe("RedisMembership watch", () => {
  it("receives changes by pub/sub alone, without waiting for a poll", async () => {
    const server = await startRedisServer();
    const watcherSide = new RedisMembership({ redis: server.url, watchPollIntervalMs: 600_000, logger: quietLogger });
    const other = new RedisMembership({ redis: server.url, logger: quietLogger });
    const changes: MembershipChange[] = [];
    const stop = watcherSide.watch((change) => changes.push(change));

    // Re-joining with a new startedAt announces a new incarnation each time; the first announcement
    // after the subscription is in place arrives by pub/sub (the next poll is ten minutes away).
    let startedAt = 0;
    await eventually(async () => {
      // A join announced before the subscription was in place is lost; the next one arrives.
      if (changes.some((c) => c.kind === "joined")) return true;
      await other.join({ siloId: "silo-a", host: "127.0.0.1", port: 1, startedAt: ++startedAt }, 120_000);
      return false;
    }, "a join arrived");
    await other.leave("silo-a");
    await eventually(() => changes.some((c) => c.kind === "left"), "the leave arrived");

    stop();
    await Promise.all([watcherSide.close(), other.close()]);
    await server.stop();
  });
});
