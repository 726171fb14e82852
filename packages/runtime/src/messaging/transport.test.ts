import { ConnectionError, DomainError, GranaryError, isGranaryError, ShuttingDownError } from "@granary/core";
import { describe, expect, it, vi } from "vitest";
import { useTransport } from "../__fixtures__/transport-harness.js";
import type { TransportConnection } from "./connection.js";
import { REPLY_LATER, type Reply } from "./connection-types.js";

const { serve, connect } = useTransport();
class InsufficientFunds extends DomainError {
  constructor(readonly balance: number) {
    super("INSUFFICIENT_FUNDS", `balance ${balance} is too low`, { data: { balance } });
  }
}

describe("transport", () => {
  it("round trip - a request gets the handler's answer, with the peer's identity on both sides", async () => {
    let seenFrom: TransportConnection | undefined;
    const server = await serve({
      id: "silo-a",
      onRequest: (payload, from) => {
        seenFrom = from;
        return { echo: payload, at: new Date(0) };
      },
    });
    const connection = await connect(server, { id: "client-1" });

    const answer = await connection.request({ hello: "world", n: [1, 2, 3] });

    expect(answer).toEqual({ echo: { hello: "world", n: [1, 2, 3] }, at: new Date(0) });
    expect(connection.peer).toMatchObject({ id: "silo-a", role: "silo" });
    expect(seenFrom?.peer).toMatchObject({ id: "client-1", role: "client" });
  });

  it("multiplexing - 10,000 concurrent requests on one connection are each matched to their own answer", async () => {
    // Answers come back in a scrambled order, so matching must be by call id, not by arrival.
    const server = await serve({
      onRequest: async (payload) => {
        const n = payload as number;
        if (n % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
        if (n % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        return n * 2;
      },
    });
    const connection = await connect(server);

    const answers = await Promise.all(Array.from({ length: 10_000 }, (_, n) => connection.request(n)));

    expect(answers).toEqual(Array.from({ length: 10_000 }, (_, n) => n * 2));
  });

  it("owner hint - a reply's hint reaches the request's sink with the value or the error, and only then", async () => {
    const server = await serve({
      onRequest: (payload, _from, reply: Reply) => {
        if (payload === "ok") reply.resolve(1, "10.0.0.7:11111");
        else if (payload === "plain") reply.resolve(2);
        else reply.reject(new InsufficientFunds(3), "10.0.0.8:11111");
        return REPLY_LATER;
      },
    });
    const connection = await connect(server);
    const outcome = (payload: string) =>
      new Promise<unknown[]>((resolve) =>
        connection.requestTo(payload, {
          resolve: (value, hint) => resolve(["value", value, hint]),
          reject: (error, hint) => resolve(["error", (error as { code?: string }).code, hint]),
        }),
      );

    expect(await outcome("ok")).toEqual(["value", 1, "10.0.0.7:11111"]);
    expect(await outcome("plain")).toEqual(["value", 2, undefined]);
    expect(await outcome("fail")).toEqual(["error", "INSUFFICIENT_FUNDS", "10.0.0.8:11111"]);
    // The promise form just drops it.
    expect(await connection.request("ok")).toBe(1);
  });

  it("errors - a handler's error reaches the caller with its name, code, message and data", async () => {
    const server = await serve({
      onRequest: (payload) => {
        if (payload === "domain") throw new InsufficientFunds(3);
        if (payload === "plain") throw new TypeError("boom");
        return Promise.reject(new GranaryError("CUSTOM", "custom failure", { retryable: true, data: { x: 1 } }));
      },
    });
    const connection = await connect(server, { errorClasses: new Map([["InsufficientFunds", InsufficientFunds]]) });

    const domain = await connection.request("domain").catch((e: unknown) => e);
    const plain = await connection.request("plain").catch((e: unknown) => e);
    const custom = await connection.request("custom").catch((e: unknown) => e);

    expect(domain).toBeInstanceOf(InsufficientFunds);
    expect(domain).toMatchObject({ name: "InsufficientFunds", code: "INSUFFICIENT_FUNDS", balance: 3 });
    expect(plain).toMatchObject({ name: "TypeError", code: "ACTOR_ERROR", message: "boom" });
    expect(custom).toMatchObject({ code: "CUSTOM", message: "custom failure", retryable: true, data: { x: 1 } });
  });

  it("encoding - a payload or answer msgpack cannot encode fails that call only, with SerializationError", async () => {
    const server = await serve({ onRequest: (payload) => (payload === "bad answer" ? Symbol("x") : payload) });
    const connection = await connect(server);

    const badRequest = await connection.request(10n ** 30n).catch((e: unknown) => e);
    const badAnswer = await connection.request("bad answer").catch((e: unknown) => e);

    expect(badRequest).toMatchObject({ name: "SerializationError", code: "SERIALIZATION_ERROR" });
    expect(badAnswer).toMatchObject({ name: "SerializationError", code: "SERIALIZATION_ERROR" });
    expect(await connection.request("fine")).toBe("fine");
  });

  it("one-way messages - reach onMessage in order, no answer", async () => {
    const received: unknown[] = [];
    const server = await serve({ onMessage: (payload) => received.push(payload) });
    const connection = await connect(server);

    for (let i = 0; i < 100; i++) await connection.send(i);
    await connection.request("barrier");

    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("server push - the server can call a client that has an onRequest handler", async () => {
    const server = await serve({
      onRequest: async (payload, from) => ({ mine: payload, theirs: await from.request("ping") }),
    });
    const connection = await connect(server, { onRequest: (payload) => `pong:${String(payload)}` });

    expect(await connection.request("x")).toEqual({ mine: "x", theirs: "pong:ping" });
  });

  it("coalescing - frames queued in the same tick go out in fewer socket writes", async () => {
    const server = await serve();
    const connection = await connect(server);
    const before = connection.stats();

    await Promise.all(Array.from({ length: 500 }, (_, i) => connection.request(i)));

    const after = connection.stats();
    expect(after.framesWritten - before.framesWritten).toBe(500);
    expect(after.socketWrites - before.socketWrites).toBeLessThan(10);
  });

  it("timeout - a request without an answer in time rejects with the caller's error; a late answer is ignored", async () => {
    let release!: () => void;
    const server = await serve({
      onRequest: (payload) =>
        payload === "slow" ? new Promise((resolve) => (release = () => resolve("late"))) : payload,
    });
    const connection = await connect(server);

    const timedOut = await connection.request("slow", { timeoutMs: 20 }).catch((e: unknown) => e);
    const custom = await connection
      .request("slow", { timeoutMs: 20, timeoutError: () => new Error("mine") })
      .catch((e: unknown) => e);
    release();

    expect(isGranaryError(timedOut, "CALL_TIMEOUT")).toBe(true);
    expect(custom).toEqual(new Error("mine"));
    expect(await connection.request("still works")).toBe("still works");
  });

  it("timeout - a short timeout sent after long ones still fires on time, and answered calls never time out", async () => {
    const server = await serve({
      onRequest: (payload) => (payload === "slow" ? new Promise(() => {}) : payload),
    });
    const connection = await connect(server);
    const long = connection.request("slow", { timeoutMs: 60_000 }).catch((e: unknown) => e);
    const answered = await Promise.all(Array.from({ length: 50 }, (_, i) => connection.request(i, { timeoutMs: 30 })));
    const started = performance.now();

    const short = await connection.request("slow", { timeoutMs: 30 }).catch((e: unknown) => e);

    expect(isGranaryError(short, "CALL_TIMEOUT")).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(answered).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // The sweep that expired `short` ran after every answered call's deadline: none was expired, and
    // the long call is still waiting.
    expect(connection.stats().requestsInFlight).toBe(1);
    void connection.destroy();
    expect(await long).toMatchObject({ code: "CONNECTION_ERROR" });
  });

  it("reply - a handler may answer through its reply (REPLY_LATER), once; the request counts as handled until then", async () => {
    const replies: Reply[] = [];
    const server = await serve({
      onRequest: (payload, _from, reply) => {
        if (payload === "throws") throw new InsufficientFunds(3);
        replies.push(reply);
        return REPLY_LATER;
      },
    });
    const connection = await connect(server);
    const first = connection.request("a");
    const second = connection.request("b").catch((e: unknown) => e);
    await vi.waitFor(() => expect(replies).toHaveLength(2));
    const peer = [...server.connections][0] as TransportConnection;
    expect(peer.stats().requestsBeingHandled).toBe(2);

    replies[0]?.resolve("answer a");
    replies[0]?.reject(new Error("ignored: already answered"));
    replies[1]?.reject(new InsufficientFunds(7));
    replies[1]?.resolve("ignored too");

    expect(await first).toBe("answer a");
    expect(await second).toMatchObject({ name: "InsufficientFunds", code: "INSUFFICIENT_FUNDS", data: { balance: 7 } });
    expect(await connection.request("throws").catch((e: unknown) => e)).toMatchObject({ code: "INSUFFICIENT_FUNDS" });
    expect(peer.stats().requestsBeingHandled).toBe(0);
  });

  it("requestTo - the answer, the remote error and the refusal of a closed connection reach the sink", async () => {
    const server = await serve({
      onRequest: (payload) => {
        if (payload === "fail") throw new InsufficientFunds(1);
        return { got: payload };
      },
    });
    const connection = await connect(server);
    const outcome = (payload: unknown) =>
      new Promise((resolve) =>
        connection.requestTo(payload, {
          resolve: (value) => resolve({ value }),
          reject: (error) => resolve({ error }),
        }),
      );

    expect(await outcome(1)).toEqual({ value: { got: 1 } });
    expect(await outcome("fail")).toMatchObject({ error: { code: "INSUFFICIENT_FUNDS" } });
    await connection.destroy();
    expect(await outcome(2)).toMatchObject({ error: { code: "CONNECTION_ERROR", retryable: true } });
  });

  it("abort - an aborted signal rejects the request with its reason", async () => {
    const server = await serve({ onRequest: () => new Promise(() => {}) });
    const connection = await connect(server);
    const controller = new AbortController();

    const pending = connection.request("x", { signal: controller.signal });
    controller.abort(new Error("caller gave up"));

    await expect(pending).rejects.toThrow("caller gave up");
    await expect(connection.request("y", { signal: controller.signal })).rejects.toThrow("caller gave up");
  });

  it("drop - requests in flight fail with a non-retryable ConnectionError when the connection breaks", async () => {
    const server = await serve({ onRequest: () => new Promise(() => {}) });
    const connection = await connect(server);
    const closed = new Promise<Error | undefined>((resolve) => connection.onClose(resolve));
    // A timeout well inside the test's: a drop that went unnoticed fails as CALL_TIMEOUT, not as a hang.
    const inFlight = [1, 2].map((n) => connection.request(n, { timeoutMs: 10_000 }).catch((e: unknown) => e));
    await vi.waitFor(() => {
      expect(server.connections.size).toBe(1);
      expect([...server.connections][0]?.stats().requestsBeingHandled).toBe(2);
    });

    for (const peer of server.connections) await peer.destroy();

    for (const error of await Promise.all(inFlight)) {
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ code: "CONNECTION_ERROR", retryable: false });
    }
    await closed;
    expect(connection.closed).toBe(true);
    await expect(connection.request(3)).rejects.toMatchObject({ code: "CONNECTION_ERROR", retryable: true });
  });

  it("graceful close - calls in flight are answered, new calls are refused as retryable", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = await serve({
      onRequest: async (payload) => {
        await gate;
        return payload;
      },
    });
    const connection = await connect(server);
    const inFlight = connection.request("in flight");
    await vi.waitFor(() => expect([...server.connections][0]?.stats().requestsBeingHandled).toBe(1));

    const closing = server.close();
    await vi.waitFor(() => expect(connection.state).toBe("draining"));
    const refused = await connection.request("too late").catch((e: unknown) => e);
    release();

    expect(await inFlight).toBe("in flight");
    expect(refused).toBeInstanceOf(ShuttingDownError);
    expect(refused).toMatchObject({ retryable: true });
    await closing;
    await vi.waitFor(() => expect(connection.closed).toBe(true));
  });

  it("frame limit - a request larger than the peer's maxFrameBytes fails locally; the connection stays usable", async () => {
    const server = await serve({ maxFrameBytes: 64 * 1024 });
    const connection = await connect(server);

    const error = await connection.request("x".repeat(100 * 1024)).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: "SERIALIZATION_ERROR" });
    expect((error as Error).message).toContain("maxFrameBytes");
    expect(await connection.request("small")).toBe("small");
  });
});
