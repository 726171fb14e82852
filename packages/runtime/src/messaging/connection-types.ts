import type { SocketStats } from "./framed-socket.js";
import type { PeerRole } from "./transport-options.js";

/*
 * The vocabulary of a TransportConnection that does not mention the connection itself: who the
 * peer is, how requests are answered, the options of a request and the states a connection goes
 * through. The handler types take the connection as an argument, so they live in connection.ts.
 */

/** Who is at the other end of a connection, as established by the handshake. */
export interface PeerInfo {
  /** The id the peer announced (and, with a cluster key, proved it may announce). */
  readonly id: string;
  readonly role: PeerRole;
  /** "host:port" of the remote socket. */
  readonly address: string;
}

/**
 * The answer to one request received. Settles once; later calls are ignored. `ownerHint` rides
 * along in the response frame (see `MessageType.Response`).
 */
export interface Reply {
  resolve(value: unknown, ownerHint?: string): void;
  /** The error reaches the caller through `toWireError` / `fromWireError`. */
  reject(error: unknown, ownerHint?: string): void;
}

/** Returned by a `RequestHandler` that answers through its `reply` argument. */
export const REPLY_LATER: unique symbol = Symbol("granary.replyLater");
export interface RequestOptions {
  /** Reject when no response arrived in time (the request may still execute). @default no timeout */
  readonly timeoutMs?: number | undefined;
  /** Reject with `signal.reason` when aborted (the request may still execute). */
  readonly signal?: AbortSignal | undefined;
  /** Builds the timeout error. @default a CallTimeoutError naming the peer */
  readonly timeoutError?: (() => Error) | undefined;
}

export const ConnectionState = {
  /** Sends and receives. */
  Open: "open",
  /** One side is closing gracefully: in-flight calls finish, new requests are refused (retryable). */
  Draining: "draining",
  /** The socket is gone. */
  Closed: "closed",
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export interface ConnectionStats extends SocketStats {
  readonly requestsInFlight: number;
  readonly requestsBeingHandled: number;
}

/**
 * Receives the outcome of a request sent with {@link TransportConnection.requestTo}: one call, once.
 * `ownerHint` is the peer's, passed only with its Response or ErrorResponse (never with an error
 * raised on this side: a timeout, a dropped connection).
 */
export interface ResponseSink {
  resolve(value: unknown, ownerHint?: string): void;
  reject(error: unknown, ownerHint?: string): void;
}
