import { createServer } from "node:net";
import { MemoryMembership } from "@granary/core";
import { afterEach, describe, expect, it } from "vitest";
import { Counter } from "../__fixtures__/actors.js";
import { Client } from "./client.js";

const clusterKey = "client-no-silo-test-key-0123456789";
const clients: Client[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function connect(options: Omit<Parameters<typeof Client.connect>[0], "clusterKey">): Promise<Client> {
  // A long call timeout: these calls must fail because no silo can take them, not because it ran out.
  const client = await Client.connect({ clusterKey, callTimeoutMs: 120_000, ...options });
  clients.push(client);
  return client;
}

const noSilo = { code: "NO_SILO_AVAILABLE", retryable: true, data: { sent: false } };

describe("a client with no silo to call", () => {
  it("a dead gateway: the call fails at once with a retryable NO_SILO_AVAILABLE saying nothing was sent", async () => {
    const client = await connect({ gateways: [`127.0.0.1:${await deadPort()}`, `127.0.0.1:${await deadPort()}`] });
    const error = await client
      .get(Counter, "c")
      .increment()
      .catch((e: unknown) => e);
    expect(error).toMatchObject(noSilo);
    expect((error as Error).message).toMatch(/nothing was sent/);
  });

  it("no silo in membership: NO_SILO_AVAILABLE at once", async () => {
    const client = await connect({ membership: new MemoryMembership() });
    await expect(client.get(Counter, "c").increment()).rejects.toMatchObject(noSilo);
  });

  it("membership unreachable (Redis down at connect): NO_SILO_AVAILABLE naming the membership", async () => {
    const client = await connect({ redis: `redis://127.0.0.1:${await deadPort()}` });
    const error = await client
      .get(Counter, "c")
      .increment()
      .catch((e: unknown) => e);
    expect(error).toMatchObject(noSilo);
    expect((error as Error).message).toMatch(/membership could not be read/);
  });

  it("a closed client refuses calls with SHUTTING_DOWN that is not retryable (retrying on it can never succeed)", async () => {
    const client = await connect({ membership: new MemoryMembership() });
    await client.close();
    await expect(client.get(Counter, "c").increment()).rejects.toMatchObject({
      code: "SHUTTING_DOWN",
      retryable: false,
    });
  });
});
