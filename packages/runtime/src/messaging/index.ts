/**
 * Messaging: the silo-to-silo and client-to-silo transport. TCP (optionally TLS), length-prefixed
 * msgpack frames, a mutual HMAC handshake over a shared cluster key, request multiplexing by call
 * id, write coalescing and bounded write buffers. It knows nothing about actors: payloads are
 * opaque values.
 *
 * @example
 * const server = await listenTransport({ port: 0, clusterKey, onRequest: (payload) => ({ echo: payload }) });
 * const pool = new ConnectionPool({ clusterKey });
 * const reply = await pool.request(`127.0.0.1:${server.address.port}`, "hi", { timeoutMs: 30_000 });
 */
export { connectTransport, type TransportConnectOptions } from "./connect.js";
export {
  type ConnectionHandlers,
  type MessageHandler,
  type RequestHandler,
  TransportConnection,
} from "./connection.js";
export {
  ConnectionState,
  type ConnectionStats,
  type PeerInfo,
  REPLY_LATER,
  type Reply,
  type RequestOptions,
  type ResponseSink,
} from "./connection-types.js";
export { addressKey, ConnectionPool, type ConnectionPoolOptions, type PeerAddress } from "./pool.js";
export { listenTransport, type TransportServer, type TransportServerOptions } from "./server.js";
export {
  type ConnectAddressOptions,
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_BUFFERED_FRAME_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_OUTSTANDING_BYTES,
  DEFAULT_PARTIAL_FRAME_TIMEOUT_MS,
  type ListenAddressOptions,
  MIN_CLUSTER_KEY_BYTES,
  PeerRole,
  type ResolvedTransportOptions,
  resolveTransportOptions,
  type TransportOptions,
} from "./transport-options.js";
