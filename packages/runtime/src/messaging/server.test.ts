import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectionError, encode, UnauthorizedError } from "@granary/core";
import { describe, expect, it } from "vitest";
import { captureLogs, clusterKey, useTransport } from "../__fixtures__/transport-harness.js";
import { connectTransport } from "./connect.js";
import { encodeFrame, FrameDecoder } from "./frame-codec.js";
import { ClientHandshake, HANDSHAKE_MAX_FRAME_BYTES } from "./handshake.js";
import { MessageType } from "./protocol.js";
import type { TransportServer } from "./server.js";
import { resolveTransportOptions } from "./transport-options.js";

const { cleanup, serve, connect } = useTransport();
const otherKey = "another-cluster-key-fedcba9876543210";

interface LogLine {
  level: number;
  msg: string;
  remote?: string;
  reason?: string;
}

/**
 * Resolves when the server closes `socket`; fails after 10 s naming the peer, rather than leaving
 * the test to fail only through its own timeout.
 */
function whenClosed(socket: Socket, peer: string): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not disconnect ${peer} within 10 s`)), 10_000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  // Handled here so a test that never awaits it cannot end in an unhandled rejection; awaiting it still throws.
  closed.catch(() => {});
  return closed;
}

/** A hand-driven client: completes the real handshake, then lets the test write raw bytes. */
async function rawAuthenticatedSocket(server: TransportServer): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = netConnect({ host: "127.0.0.1", port: server.address.port });
  cleanup(() => socket.destroy());
  const closed = whenClosed(socket, "the raw peer");
  const handshake = new ClientHandshake(resolveTransportOptions({ clusterKey }), "test");
  await new Promise<void>((resolve, reject) => {
    let step = 0;
    const decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME_BYTES, (body) => {
      if (step++ === 0) socket.write(encodeFrame(handshake.answerHello(body)));
      else {
        handshake.finish(body);
        socket.removeAllListeners("data");
        resolve();
      }
    });
    socket.on("data", (chunk: Buffer) => decoder.push(chunk));
    socket.on("error", reject);
  });
  return { socket, closed };
}

describe("transport server", () => {
  it("oversized frame - a peer announcing a frame above maxFrameBytes is disconnected; others are served", async () => {
    const logs = captureLogs<LogLine>();
    const server = await serve({ maxFrameBytes: 64 * 1024, logger: logs.logger });
    const bystander = await connect(server);
    const { socket, closed } = await rawAuthenticatedSocket(server);

    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024 + 1);
    socket.write(header); // the body never comes: the header alone must get it disconnected
    await closed;

    expect(logs.warnings().some((line) => line.reason?.includes("above maxFrameBytes"))).toBe(true);
    expect(await bystander.request("still here")).toBe("still here");
    const second = await connect(server);
    expect(await second.request("new client")).toBe("new client");
  });

  it("oversized frame - before authentication only tiny handshake frames are accepted", async () => {
    const server = await serve();
    const socket = netConnect({ host: "127.0.0.1", port: server.address.port });
    cleanup(() => socket.destroy());
    const closed = whenClosed(socket, "a peer announcing a frame above the handshake limit");
    socket.resume();

    const header = Buffer.alloc(4);
    header.writeUInt32BE(HANDSHAKE_MAX_FRAME_BYTES + 1);
    socket.write(header);

    await closed;
  });

  it("garbage - a frame that is not msgpack, or not a message, disconnects that peer only", async () => {
    const logs = captureLogs<LogLine>();
    const server = await serve({ logger: logs.logger });
    const bystander = await connect(server);
    const notMsgpack = await rawAuthenticatedSocket(server);
    const notAMessage = await rawAuthenticatedSocket(server);

    notMsgpack.socket.write(encodeFrame(Buffer.from([0xc1, 0xc1, 0xc1])));
    notAMessage.socket.write(encodeFrame(encode({ hello: "there" })));
    await Promise.all([notMsgpack.closed, notAMessage.closed]);

    expect(logs.warnings().filter((line) => line.msg === "transport: closing connection")).toHaveLength(2);
    expect(await bystander.request("ok")).toBe("ok");
    expect(server.connections.size).toBe(1);
  });

  it("authentication - a wrong cluster key gets UnauthorizedError; the server warns with the address and keeps serving", async () => {
    const logs = captureLogs<LogLine>();
    const server = await serve({ logger: logs.logger });

    const error = await connect(server, { clusterKey: otherKey }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as Error).message).toContain("clusterKey");
    const warning = logs.warnings().find((line) => line.msg.includes("authentication failed"));
    expect(warning?.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(warning?.reason).toContain("proof is wrong");
    expect(await (await connect(server)).request("fine")).toBe("fine");
  });

  it("authentication - an open client cannot call a server that requires a key", async () => {
    const logs = captureLogs<LogLine>();
    const server = await serve({ logger: logs.logger });

    const error = await connect(server, { clusterKey: undefined, allowUnauthenticated: true }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(logs.warnings().some((line) => line.reason?.includes("no cluster key proof"))).toBe(true);
  });

  it("authentication - a client with a key refuses an open server (no downgrade)", async () => {
    const server = await serve({ clusterKey: undefined, allowUnauthenticated: true });

    const error = await connect(server).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as Error).message).toContain("without a cluster key");
  });

  it("authentication - open mode works when both ends allow it explicitly", async () => {
    const server = await serve({ clusterKey: undefined, allowUnauthenticated: true });
    const connection = await connect(server, { clusterKey: undefined, allowUnauthenticated: true });

    expect(await connection.request("open")).toBe("open");
  });

  it("authentication - a server that cannot prove the key is refused (mutual authentication)", async () => {
    // An impostor that claims to require a key and then accepts anyone.
    const impostor = await rawServer((socket) => {
      socket.write(encodeFrame(encode([MessageType.Hello, 1, Buffer.alloc(32, 7), 1 << 20, true])));
      socket.once("data", () => {
        socket.write(encodeFrame(encode([MessageType.Welcome, "silo-x", "silo", Buffer.alloc(32)])));
      });
    });

    const error = await connectTransport({ host: "127.0.0.1", port: impostor.port, clusterKey }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as Error).message).toContain("could not prove");
  });

  it("handshake timeout - the server drops a peer that never answers the hello, and logs it", async () => {
    const logs = captureLogs<LogLine>();
    const server = await serve({ handshakeTimeoutMs: 50, logger: logs.logger });
    const socket = netConnect({ host: "127.0.0.1", port: server.address.port });
    cleanup(() => socket.destroy());
    socket.resume();

    await whenClosed(socket, "a peer that never answered the hello");

    expect(logs.warnings().some((line) => line.msg.includes("handshakeTimeoutMs"))).toBe(true);
    expect(await (await connect(server)).request("fine")).toBe("fine");
  });

  it("handshake timeout - a client gives up on a server that never says hello", async () => {
    const silent = await rawServer(() => {});

    const error = await connectTransport({
      host: "127.0.0.1",
      port: silent.port,
      clusterKey,
      handshakeTimeoutMs: 50,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toContain("handshakeTimeoutMs");
  });

  it("connect - an unreachable server rejects with a retryable ConnectionError", async () => {
    const closedPort = await rawServer(() => {});
    await closedPort.close();

    const error = await connectTransport({ host: "127.0.0.1", port: closedPort.port, clusterKey }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ retryable: true });
  });

  const openssl = which("openssl");
  const tlsTitle = `TLS - a round trip over TLS with a self-signed certificate${openssl ? "" : " (skipped: no `openssl` binary on PATH to make the certificate)"}`;
  it.skipIf(!openssl)(tlsTitle, async () => {
    const dir = mkdtempSync(join(tmpdir(), "granary-tls-"));
    cleanup(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"],
        ...["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ],
      { stdio: "ignore" },
    );
    const key = readFileSync(join(dir, "key.pem"));
    const cert = readFileSync(join(dir, "cert.pem"));
    const server = await serve({ tls: { key, cert } });

    const connection = await connect(server, { tls: { ca: cert, servername: "localhost" } });
    const untrusting = await connect(server, { tls: {} }).catch((e: unknown) => e);
    const plain = await connect(server, { handshakeTimeoutMs: 500 }).catch((e: unknown) => e);

    expect(await connection.request({ over: "tls" })).toEqual({ over: "tls" });
    expect(untrusting).toBeInstanceOf(ConnectionError);
    expect((untrusting as Error).message).toMatch(/certificate/i);
    expect(plain).toBeInstanceOf(ConnectionError);
  });
});

async function rawServer(onSocket: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  cleanup(close);
  return { port, close };
}

function which(binary: string): boolean {
  try {
    execFileSync("which", [binary], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
