import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { ConnectionError, isGranaryError, messageOf } from "@granary/core";
import { type ConnectionHandlers, TransportConnection } from "./connection.js";
import { FramedSocket } from "./framed-socket.js";
import { ClientHandshake, HANDSHAKE_MAX_FRAME_BYTES } from "./handshake.js";
import {
  type ConnectAddressOptions,
  PeerRole,
  resolveConnectAddress,
  resolveTransportOptions,
  type TransportOptions,
} from "./transport-options.js";

export interface TransportConnectOptions extends TransportOptions, ConnectAddressOptions, ConnectionHandlers {}

/**
 * Opens a connection to a transport server and authenticates both ends.
 * @throws InvalidConfigurationError for bad options; UnauthorizedError when the server refuses the
 *   cluster key or cannot prove it; ConnectionError (retryable: nothing was sent) when the server
 *   cannot be reached or the handshake does not finish within `handshakeTimeoutMs`.
 * @example
 * const connection = await connectTransport({ host: "10.0.0.7", port: 11111, clusterKey });
 * const answer = await connection.request({ hello: "world" }, { timeoutMs: 30_000 });
 */
export function connectTransport(options: TransportConnectOptions): Promise<TransportConnection> {
  const resolved = resolveTransportOptions(options, PeerRole.Client);
  const { host, port } = resolveConnectAddress(options);
  const address = `${host}:${port}`;
  const log = resolved.logger;
  return new Promise((resolve, reject) => {
    const socket: Socket = options.tls ? tlsConnect({ ...options.tls, host, port }) : netConnect({ host, port });
    const framed = new FramedSocket(socket, {
      maxFrameBytes: HANDSHAKE_MAX_FRAME_BYTES,
      maxOutstandingBytes: resolved.maxOutstandingBytes,
      logger: log,
    });
    const handshake = new ClientHandshake(resolved, address);
    let helloSeen = false;
    const timer = setTimeout(() => {
      framed.destroy(
        new ConnectionError(
          `${address} did not complete the transport handshake within ${resolved.handshakeTimeoutMs} ms (handshakeTimeoutMs)`,
          { retryable: true },
        ),
      );
    }, resolved.handshakeTimeoutMs);
    framed.onClose = (error) => {
      clearTimeout(timer);
      if (error !== undefined && isGranaryError(error)) return reject(error);
      const reason = error === undefined ? "the server closed the connection during the handshake" : messageOf(error);
      reject(
        new ConnectionError(`cannot connect to ${address}: ${reason}`, {
          retryable: true,
          ...(error ? { cause: error } : {}),
        }),
      );
    };
    framed.onFrame = (body) => {
      if (!helloSeen) {
        helloSeen = true;
        framed.writeNow(handshake.answerHello(body));
        return;
      }
      const remote = handshake.finish(body);
      clearTimeout(timer);
      log.debug({ remote: address, peer: remote.id, role: remote.role }, "transport: connected");
      resolve(
        new TransportConnection({ framed, options: resolved, remote, address, handlers: options, accepted: false }),
      );
    };
  });
}
