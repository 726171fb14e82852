import { NotOwnerError } from "@granary/core";
import { afterEach, describe, expect, it } from "vitest";
import { Account } from "../__fixtures__/actors.js";
import { parseCallRequest } from "../calls/call-wire.js";
import { listenTransport, type TransportServer } from "../messaging/server.js";
import { Client } from "./client.js";

const clusterKey = "client-test-cluster-key-0123456789";
const running: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

/** A gateway that answers calls with `answer` (a silo stand-in, speaking the real transport). */
async function gateway(answer: (method: string) => unknown): Promise<{ server: TransportServer; calls: string[] }> {
  const calls: string[] = [];
  const server = await listenTransport({
    clusterKey,
    port: 0,
    onRequest: (payload) => {
      const request = parseCallRequest(payload);
      calls.push(request.method);
      return answer(request.method);
    },
  });
  running.push(() => server.close());
  return { server, calls };
}

async function connect(servers: TransportServer[], callTimeoutMs = 10_000): Promise<Client> {
  const client = await Client.connect({
    gateways: servers.map((s) => `127.0.0.1:${s.address.port}`),
    clusterKey,
    callTimeoutMs,
  });
  running.push(() => client.close());
  return client;
}

describe("client", () => {
  it("timeout - a gateway that never answers gives the call's own CallTimeoutError", async () => {
    const { server } = await gateway(() => new Promise(() => {}));
    const client = await connect([server], 50);

    const error = await client
      .get(Account, "acc-9")
      .balance()
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ code: "CALL_TIMEOUT", name: "CallTimeoutError" });
    expect((error as Error).message).toContain("Account/acc-9");
    expect((error as Error).message).toContain("balance");
  });

  it("refusal - a call a gateway refused at its door is retried on another; other errors are not", async () => {
    const refusing = await gateway(() => {
      throw new NotOwnerError("Account/acc-1");
    });
    const serving = await gateway((method) => {
      if (method === "deposit") throw new Error("boom");
      return 42;
    });
    const client = await connect([refusing.server, serving.server]);

    const answers = await Promise.all(Array.from({ length: 6 }, () => client.get(Account, "acc-1").balance()));
    const failure = await client
      .get(Account, "acc-1")
      .deposit(1)
      .catch((e: unknown) => e);

    expect(answers).toEqual([42, 42, 42, 42, 42, 42]);
    expect(refusing.calls.length).toBeGreaterThan(0);
    expect(failure).toMatchObject({ message: "boom" });
    expect(serving.calls.filter((m) => m === "deposit")).toHaveLength(1);
  });
});
