import { useRedisServer } from "@granary/testing";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRedisBackends } from "./redis-backends.js";

const server = useRedisServer();
let probe: Redis;

beforeAll(async () => {
  probe = new Redis(server.url);
  await probe.client("SETNAME", "probe");
});
afterAll(() => {
  probe?.disconnect();
});

/** Command connections (not pub/sub) open on the server, the probe's own left out. */
async function commandConnections(): Promise<number> {
  const list = (await probe.client("LIST")) as string;
  return list
    .split("\n")
    .filter((line) => line.includes("id=") && !line.includes("name=probe") && !/ sub=[1-9]| psub=[1-9]/.test(line))
    .length;
}

describe("a silo's Redis back ends", () => {
  it("share one command connection between directory, stores and reminders; membership keeps its own", async () => {
    const backends = await openRedisBackends(server.url, "conn-test", pino({ level: "silent" }), true);
    try {
      await backends.membership.join({ siloId: "s1", host: "127.0.0.1", port: 1, startedAt: Date.now() }, 5_000);
      await backends.directory.register("A/1", "s1", "act-1");
      await backends.store?.latestVersion("A/1");
      await backends.snapshots?.load("A/1");
      await backends.reminders?.list("A/1");
      expect(await commandConnections()).toBe(2);
    } finally {
      await backends.close();
    }
    await expect.poll(commandConnections).toBe(0);
  });
});
