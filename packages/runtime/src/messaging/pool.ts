import { ConnectionError, formatAddress, parseAddress, ShuttingDownError } from "@granary/core";
import { connectTransport } from "./connect.js";
import type { ConnectionHandlers, TransportConnection } from "./connection.js";
import { ConnectionState, type RequestOptions, type ResponseSink } from "./connection-types.js";
import {
  type ConnectAddressOptions,
  PeerRole,
  type ResolvedTransportOptions,
  resolveTransportOptions,
  type TransportOptions,
} from "./transport-options.js";

export interface ConnectionPoolOptions extends TransportOptions, ConnectionHandlers {
  /** TLS for every connection of the pool. @default plain TCP */
  readonly tls?: ConnectAddressOptions["tls"];
}

/** A peer: "host:port" (IPv6 as "[::1]:11111") or an object. */
export type PeerAddress = string | { readonly host: string; readonly port: number };

interface Entry {
  connection: TransportConnection | undefined;
  readonly connecting: Promise<TransportConnection>;
}

/**
 * One connection per peer, opened on first use and reopened on the first use after it dropped or
 * started draining. A drop fails that connection's calls in flight with ConnectionError
 * (`retryable: false`: they may have executed; the caller decides); a failed connect rejects with
 * ConnectionError (`retryable: true`) or UnauthorizedError.
 */
export class ConnectionPool {
  readonly #options: ConnectionPoolOptions;
  readonly #resolved: ResolvedTransportOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #all = new Set<TransportConnection>();
  #closed = false;

  constructor(options: ConnectionPoolOptions) {
    this.#resolved = resolveTransportOptions(options, options.role ?? PeerRole.Client);
    // One identity for every connection of the pool.
    this.#options = { ...options, id: this.#resolved.id, role: this.#resolved.role, logger: this.#resolved.logger };
  }

  /** Number of peers with an open (or opening) connection. */
  get size(): number {
    return this.#entries.size;
  }

  /** The open connection to `address`, connecting (or reconnecting) when there is none. */
  get(address: PeerAddress): Promise<TransportConnection> {
    const key = addressKey(address);
    const open = this.#openConnection(key);
    if (open !== undefined) return Promise.resolve(open);
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.connection === undefined) return entry.connecting;
    return this.#connect(key, address);
  }

  /** `get(address)` then `connection.request(payload, options)`, without a detour when connected. */
  request<T = unknown>(address: PeerAddress, payload: unknown, options?: RequestOptions): Promise<T> {
    const open = this.#openConnection(addressKey(address));
    if (open !== undefined) return open.request<T>(payload, options);
    return this.get(address).then((connection) => connection.request<T>(payload, options));
  }

  /** `get(address)` then `connection.requestTo(payload, sink, options)`: the outcome goes to `sink`. */
  requestTo(address: PeerAddress, payload: unknown, sink: ResponseSink, options?: RequestOptions): void {
    const open = this.#openConnection(addressKey(address));
    if (open !== undefined) {
      open.requestTo(payload, sink, options);
      return;
    }
    let connecting: Promise<TransportConnection>;
    try {
      connecting = this.get(address);
    } catch (error) {
      sink.reject(error);
      return;
    }
    connecting.then(
      (connection) => connection.requestTo(payload, sink, options),
      (error: unknown) => sink.reject(error),
    );
  }

  /** `get(address)` then `connection.send(payload)`. */
  send(address: PeerAddress, payload: unknown): Promise<void> {
    return this.get(address).then((connection) => connection.send(payload));
  }

  /**
   * Drops the connection to a peer known to be dead (declared dead by membership): its calls in
   * flight fail now with ConnectionError (`retryable: false`, they may have executed) instead of
   * waiting for their timeouts on a socket nobody will answer. The next use reconnects.
   */
  disconnect(address: PeerAddress, reason: string): void {
    const key = addressKey(address);
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    const error = new ConnectionError(
      `peer ${key} was declared dead (${reason}); the call may or may not have executed`,
    );
    if (entry.connection) void entry.connection.destroy(error);
    else void entry.connecting.then((connection) => connection.destroy(error)).catch(() => undefined);
  }

  /** Closes every connection gracefully (see `TransportConnection.close`); later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const connecting = [...this.#entries.values()].map((entry) => entry.connecting.catch(() => undefined));
    this.#entries.clear();
    const late = await Promise.all(connecting);
    const all = new Set([...this.#all, ...late.filter((c): c is TransportConnection => c !== undefined)]);
    await Promise.all([...all].map((connection) => connection.close()));
  }

  #openConnection(key: string): TransportConnection | undefined {
    const connection = this.#entries.get(key)?.connection;
    return connection !== undefined && connection.state === ConnectionState.Open ? connection : undefined;
  }

  #connect(key: string, address: PeerAddress): Promise<TransportConnection> {
    if (this.#closed) return Promise.reject(new ShuttingDownError("connection pool"));
    const { host, port } = typeof address === "string" ? parseAddress(address) : address;
    const entry: Entry = {
      connection: undefined,
      connecting: connectTransport({ ...this.#options, host, port }).then(
        (connection) => {
          if (this.#entries.get(key) === entry) entry.connection = connection;
          if (this.#closed) {
            void connection.close();
            throw new ShuttingDownError("connection pool");
          }
          this.#all.add(connection);
          connection.onClose(() => {
            this.#all.delete(connection);
            if (this.#entries.get(key) === entry) this.#entries.delete(key);
          });
          return connection;
        },
        (error: unknown) => {
          if (this.#entries.get(key) === entry) this.#entries.delete(key);
          throw error;
        },
      ),
    };
    this.#entries.set(key, entry);
    return entry.connecting;
  }
}

/** "host:port" for an address, with IPv6 hosts in brackets. */
export function addressKey(address: PeerAddress): string {
  // Strings are keys as given (validated when connecting): no parsing on the hot path.
  return typeof address === "string" ? address : formatAddress(address);
}
