import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "@granary/core";
import { makeEvents, type RedisServer, rejectionOf, startRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RedisEventStore } from "./redis-event-store.js";

const silent = { warn: () => {} };
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

async function server(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const started = await startRedisServer(options);
  cleanup.push(() => started.stop());
  return started;
}

function open(url: string, extra: Partial<ConstructorParameters<typeof RedisEventStore>[0]> = {}): RedisEventStore {
  const store = new RedisEventStore({ redis: url, logger: silent, ...extra });
  cleanup.push(() => store.close());
  return store;
}

/** Replaces the server's data directory with `backup` (an older copy of it). */
async function restoreDir(dir: string, backup: string): Promise<void> {
  for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
  await cp(backup, dir, { recursive: true });
}

/** Appends until it succeeds: the connection comes back by itself after a restart. */
async function appendEventually(store: RedisEventStore, stream: string, expected: number, count: number) {
  const outcome = await vi.waitFor(
    async () => {
      try {
        return { result: await store.append(stream, expected, makeEvents(stream, expected, count)) };
      } catch (error) {
        // Only a lost connection is worth another try; any other refusal is the answer.
        if ((error as { code?: string }).code === ErrorCode.Connection) throw error;
        return { error };
      }
    },
    { timeout: 20_000, interval: 50 },
  );
  if ("error" in outcome) throw outcome.error;
  return outcome.result;
}

describe("Redis persistence is required", () => {
  it("a store on a Redis without AOF refuses writes with INVALID_CONFIGURATION naming allowDataLossWithoutAof", async () => {
    const volatile = await server({ appendonly: false });
    const store = open(volatile.url);
    const error = await rejectionOf(store.append("s/1", 0, makeEvents("s/1", 0, 1)));
    expect(error).toMatchObject({
      code: ErrorCode.InvalidConfiguration,
      data: { option: "allowDataLossWithoutAof" },
      message: expect.stringMatching(/appendonly yes/),
    });
    expect(await store.latestVersion("s/1")).toBe(0);
    await expect(store.ready()).rejects.toMatchObject({ code: ErrorCode.InvalidConfiguration });
  });

  it("allowDataLossWithoutAof: true lets it write (the option's name says what it costs)", async () => {
    const volatile = await server({ appendonly: false });
    const store = open(volatile.url, { allowDataLossWithoutAof: true });
    await store.append("s/1", 0, makeEvents("s/1", 0, 2));
    expect(await store.latestVersion("s/1")).toBe(2);
  });
});

describe("a Redis that went back in time", () => {
  it("restarted from an old AOF copy: writes are refused with STORE_REWOUND instead of re-issuing versions", async () => {
    // Given a store that wrote versions 1-3, a copy of Redis's data taken then, and versions 4-6 after it
    const redis = await server({ appendonly: true });
    const store = open(redis.url);
    await store.append("acc/1", 0, makeEvents("acc/1", 0, 3));
    await redis.stop({ keepData: true });
    const backup = await mkdtemp(join(tmpdir(), "granary-aof-backup-"));
    cleanup.push(() => rm(backup, { recursive: true, force: true }));
    await cp(redis.dir, backup, { recursive: true });
    await redis.restart();
    const acknowledged = await appendEventually(store, "acc/1", 3, 3);
    expect(acknowledged.version).toBe(6);

    // When Redis restarts from the old copy (versions 4-6 are gone)
    await redis.stop({ keepData: true });
    await restoreDir(redis.dir, backup);
    await redis.restart();
    const raw = new Redis(redis.url);
    cleanup.push(async () => raw.disconnect());
    await expect.poll(() => raw.ping().catch(() => "down"), { timeout: 20_000 }).toBe("PONG");
    await expect.poll(() => store.latestVersion("acc/1").catch(() => -1), { timeout: 20_000 }).toBe(3);

    // Then a write that would give version 4 to a new event is refused, and stays refused
    const error = await rejectionOf(appendEventually(store, "acc/1", 3, 1));
    expect(error).toMatchObject({ code: ErrorCode.StoreRewound, name: "StoreRewoundError", retryable: false });
    expect(error.message).toMatch(/below the \d+ this store had already seen/);
    expect(await rejectionOf(store.append("other/1", 0, makeEvents("other/1", 0, 1)))).toMatchObject({
      code: ErrorCode.StoreRewound,
    });
    expect(await rejectionOf(store.purge("acc/1", { reason: "r", requestedBy: "t" }))).toMatchObject({
      code: ErrorCode.StoreRewound,
    });
    expect(await store.latestVersion("acc/1")).toBe(3);
  });

  it("FLUSHALL under a running store: writes are refused with STORE_REWOUND", async () => {
    const redis = await server({ appendonly: true });
    const store = open(redis.url);
    await store.append("acc/1", 0, makeEvents("acc/1", 0, 2));
    const raw = new Redis(redis.url);
    cleanup.push(async () => raw.disconnect());
    await raw.flushall();

    const error = await rejectionOf(store.append("acc/1", 0, makeEvents("acc/1", 0, 1)));
    expect(error).toMatchObject({ code: ErrorCode.StoreRewound });
    expect(error.message).toMatch(/generation marker is gone/);
    expect(await store.latestVersion("acc/1")).toBe(0);
  });

  it("a store started after the loss continues from what Redis holds (it never saw the lost events)", async () => {
    const redis = await server({ appendonly: true });
    const first = open(redis.url);
    await first.append("acc/1", 0, makeEvents("acc/1", 0, 2));
    const raw = new Redis(redis.url);
    cleanup.push(async () => raw.disconnect());
    await raw.flushall();

    const fresh = open(redis.url);
    await fresh.append("acc/1", 0, makeEvents("acc/1", 0, 1));
    expect(await fresh.latestVersion("acc/1")).toBe(1);
  });
});
