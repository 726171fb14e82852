import { ConnectionError, parseAddress, UnauthorizedError } from "@granary/core";
import { describe, expect, it, vi } from "vitest";
import { clusterKey, useTransport } from "../__fixtures__/transport-harness.js";
import { ConnectionPool } from "./pool.js";
import { listenTransport } from "./server.js";

const { cleanup, serve } = useTransport();
function pool(): ConnectionPool {
  const created = new ConnectionPool({ clusterKey, id: "silo-test", role: "silo" });
  cleanup(() => created.close());
  return created;
}

describe("connection pool", () => {
  it("reuse - concurrent and later calls to one peer share one connection", async () => {
    const server = await serve();
    const peers = pool();
    const address = `127.0.0.1:${server.address.port}`;

    const [a, b] = await Promise.all([peers.get(address), peers.get(address)]);
    const answers = await Promise.all([
      peers.request(address, 1),
      peers.request({ host: "127.0.0.1", port: server.address.port }, 2),
    ]);

    expect(a).toBe(b);
    expect(answers).toEqual([1, 2]);
    expect(server.connections.size).toBe(1);
    expect([...server.connections][0]?.peer).toMatchObject({ id: "silo-test", role: "silo" });
  });

  it("reconnect - after the server restarts on the same port, the next call reconnects", async () => {
    const first = await listenTransport({ clusterKey, onRequest: () => "first" });
    const port = first.address.port;
    const peers = pool();
    const address = `127.0.0.1:${port}`;
    expect(await peers.request(address, "x")).toBe("first");
    const before = await peers.get(address);

    let closed = false;
    before.onClose(() => {
      closed = true;
    });
    await first.close();
    await vi.waitFor(() => expect(closed, "the pooled connection saw the server close").toBe(true), {
      timeout: 10_000,
    });
    const second = await serve({ port, onRequest: () => "second" });

    expect(await peers.request(address, "x")).toBe("second");
    expect(await peers.get(address)).not.toBe(before);
    expect(second.connections.size).toBe(1);
  });

  it("drop - in-flight calls fail with a non-retryable ConnectionError, and the next call reconnects", async () => {
    const server = await serve({ onRequest: (payload) => (payload === "hang" ? new Promise(() => {}) : payload) });
    const peers = pool();
    const address = `127.0.0.1:${server.address.port}`;
    const hanging = peers.request(address, "hang").catch((e: unknown) => e);
    await peers.request(address, "barrier");

    for (const connection of server.connections) await connection.destroy();

    const error = await hanging;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ retryable: false });
    expect(await peers.request(address, "again")).toBe("again");
  });

  it("disconnect - calls in flight to a peer declared dead fail at once, not at their timeout", async () => {
    const server = await serve({ onRequest: (payload) => (payload === "hang" ? new Promise(() => {}) : payload) });
    const peers = pool();
    const address = { host: "127.0.0.1", port: server.address.port };
    const hanging = peers.request(address, "hang").catch((e: unknown) => e);
    await peers.request(address, "barrier");

    peers.disconnect(address, "its lease expired");

    const error = await hanging;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toContain("declared dead (its lease expired)");
    expect(await peers.request(address, "again")).toBe("again");
  });

  it("failures - an unreachable peer gives a retryable ConnectionError, a wrong key UnauthorizedError", async () => {
    const server = await serve({ clusterKey: "a-completely-different-cluster-key" });
    const gone = await listenTransport({ clusterKey, onRequest: () => null });
    const gonePort = gone.address.port;
    await gone.close();
    const peers = pool();

    const unreachable = await peers.request(`127.0.0.1:${gonePort}`, 1).catch((e: unknown) => e);
    const unauthorized = await peers.request(`127.0.0.1:${server.address.port}`, 1).catch((e: unknown) => e);

    expect(unreachable).toBeInstanceOf(ConnectionError);
    expect(unreachable).toMatchObject({ retryable: true });
    expect(unauthorized).toBeInstanceOf(UnauthorizedError);
    expect(peers.size).toBe(0);
  });

  it("close - a closed pool refuses new calls", async () => {
    const server = await serve();
    const peers = pool();
    await peers.request(`127.0.0.1:${server.address.port}`, 1);

    await peers.close();

    await expect(peers.request(`127.0.0.1:${server.address.port}`, 1)).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
  });

  it("addresses - host:port and [ipv6]:port parse; anything else is an InvalidArgumentError", () => {
    expect(parseAddress("10.0.0.1:11111")).toEqual({ host: "10.0.0.1", port: 11111 });
    expect(parseAddress("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(() => parseAddress("nohost")).toThrow(/host:port/);
    expect(() => parseAddress("h:70000")).toThrow(/host:port/);
  });
});
