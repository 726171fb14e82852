import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { ConnectionError, InvalidConfigurationError, messageOf } from "@granary/core";
import { type ConnectionHandlers, type RequestHandler, TransportConnection } from "./connection.js";
import { FrameBudget } from "./frame-budget.js";
import { FramedSocket, remoteOf } from "./framed-socket.js";
import { HANDSHAKE_MAX_FRAME_BYTES, ServerHandshake } from "./handshake.js";
import {
  type ListenAddressOptions,
  PeerRole,
  resolveListenAddress,
  resolveTransportOptions,
  type TransportOptions,
} from "./transport-options.js";

export interface TransportServerOptions extends TransportOptions, ListenAddressOptions, ConnectionHandlers {
  /** Answers every request from every peer. */
  readonly onRequest: RequestHandler;
  /** Called with each connection once its handshake succeeded. */
  readonly onConnection?: ((connection: TransportConnection) => void) | undefined;
}

export interface TransportServer {
  /** Where the server listens (the actual port when `port` was 0). */
  readonly address: { readonly host: string; readonly port: number };
  /** Authenticated connections currently open. */
  readonly connections: ReadonlySet<TransportConnection>;
  /**
   * Bytes held now for frames still arriving, on every connection (handshakes included); at most
   * `maxBufferedFrameBytes`.
   */
  readonly bufferedFrameBytes: number;
  /**
   * Stops accepting, closes every connection gracefully (calls in flight are answered, peers are told
   * to send no more; see `TransportConnection.close`) and resolves when all sockets are closed.
   */
  close(): Promise<void>;
}

/**
 * Listens for silos and clients. Each peer must complete the key exchange within
 * `handshakeTimeoutMs`; a peer with the wrong key is refused and logged (warn, with its address).
 * A peer that breaks the protocol (oversized or undecodable frame), leaves a frame incomplete past
 * `partialFrameTimeoutMs`, or starts a frame the server has no room left for
 * (`maxBufferedFrameBytes`, shared by all connections) is disconnected; the others are not affected.
 * @example
 * const server = await listenTransport({ port: 11111, clusterKey, onRequest: async (msg) => handle(msg) });
 */
export async function listenTransport(options: TransportServerOptions): Promise<TransportServer> {
  const resolved = resolveTransportOptions(options, PeerRole.Silo);
  const { host, port } = resolveListenAddress(options);
  const log = resolved.logger;
  const connections = new Set<TransportConnection>();
  const handshaking = new Set<Socket>();
  const budget = new FrameBudget(resolved.maxBufferedFrameBytes);
  let closing = false;

  const accept = (socket: Socket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    const remote = remoteOf(socket);
    handshaking.add(socket);
    const framed = new FramedSocket(socket, {
      maxFrameBytes: HANDSHAKE_MAX_FRAME_BYTES,
      maxOutstandingBytes: resolved.maxOutstandingBytes,
      logger: log,
      budget,
    });
    const handshake = new ServerHandshake(resolved);
    const timer = setTimeout(() => {
      log.warn(
        { remote, handshakeTimeoutMs: resolved.handshakeTimeoutMs },
        "transport: peer did not complete the handshake in time (handshakeTimeoutMs); disconnected",
      );
      framed.destroy(new ConnectionError("handshake timeout"));
    }, resolved.handshakeTimeoutMs);
    framed.onClose = (error) => {
      clearTimeout(timer);
      handshaking.delete(socket);
      log.debug({ remote, reason: error && messageOf(error) }, "transport: peer left during the handshake");
    };
    framed.onFrame = (body) => {
      const outcome = handshake.receive(body);
      if ("rejected" in outcome) {
        log.warn({ remote, reason: outcome.rejected }, "transport: peer refused: authentication failed");
        framed.onFrame = () => {};
        framed.writeNow(outcome.reply);
        socket.end();
        return;
      }
      clearTimeout(timer);
      handshaking.delete(socket);
      framed.writeNow(outcome.reply);
      const connection = new TransportConnection({
        framed,
        options: resolved,
        remote: outcome.accepted,
        address: remote,
        handlers: options,
        accepted: true,
      });
      connections.add(connection);
      connection.onClose((error) => {
        connections.delete(connection);
        if (error !== undefined)
          log.info({ peer: connection.peer, reason: messageOf(error) }, "transport: peer disconnected");
      });
      log.debug({ peer: connection.peer }, "transport: peer authenticated");
      options.onConnection?.(connection);
    };
    framed.writeNow(handshake.hello());
  };

  const server: Server = options.tls
    ? createTlsServer({ ...options.tls, handshakeTimeout: resolved.handshakeTimeoutMs }, accept)
    : createNetServer(accept);
  server.on("tlsClientError", (error: Error, socket: Socket) => {
    log.warn({ remote: remoteOf(socket), reason: error.message }, "transport: TLS handshake failed");
  });
  server.on("error", (error) => log.error({ err: error }, "transport: server error"));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new InvalidConfigurationError(
              "port",
              `${host}:${port} is already in use; choose another port, or 0 for an ephemeral one`,
            )
          : new ConnectionError(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error }),
      );
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const bound = server.address();
  const address = typeof bound === "object" && bound !== null ? { host, port: bound.port } : { host, port };
  log.info(
    { address, tls: options.tls !== undefined, authenticated: resolved.clusterKey !== undefined },
    "transport: listening",
  );

  let closed: Promise<void> | undefined;
  return {
    address,
    connections,
    get bufferedFrameBytes() {
      return budget.usedBytes;
    },
    close(): Promise<void> {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of handshaking) socket.destroy();
        await Promise.all([...connections].map((connection) => connection.close()));
        await stopped;
        log.info({ address }, "transport: closed");
      })();
      return closed;
    },
  };
}
