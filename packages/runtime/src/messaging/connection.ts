import {
  CallTimeoutError,
  ConnectionError,
  encode,
  fromWireError,
  messageOf,
  SerializationError,
  ShuttingDownError,
  toWireError,
} from "@granary/core";
import type { FramedSocket, SocketStats } from "./framed-socket.js";
import type { RemoteEndpoint } from "./handshake.js";
import { type Message, MessageType, parseMessage } from "./protocol.js";
import type { PeerRole, ResolvedTransportOptions } from "./transport-options.js";

/** Who is at the other end of a connection, as established by the handshake. */
export interface PeerInfo {
  /** The id the peer announced (and, with a cluster key, proved it may announce). */
  readonly id: string;
  readonly role: PeerRole;
  /** "host:port" of the remote socket. */
  readonly address: string;
}

/**
 * Answers a request. Return the response (or a promise of it); a throw or rejection reaches the
 * caller as the same error (name, code, message, data) through `toWireError` / `fromWireError`.
 */
export type RequestHandler = (payload: unknown, from: TransportConnection) => unknown;
/** Receives a one-way message. Errors it throws are logged, never sent back. */
export type MessageHandler = (payload: unknown, from: TransportConnection) => void;

export interface ConnectionHandlers {
  readonly onRequest?: RequestHandler | undefined;
  readonly onMessage?: MessageHandler | undefined;
}

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

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** The request frame was queued for the socket: from then on it may execute. */
  sent: boolean;
}

/**
 * One authenticated, multiplexed connection. Either end may send requests (matched to responses by
 * call id, any number in flight) and one-way messages. Obtain one from `connectTransport` or from a
 * server's handlers; the constructor is internal.
 */
export class TransportConnection {
  readonly peer: PeerInfo;
  readonly #framed: FramedSocket;
  readonly #options: ResolvedTransportOptions;
  readonly #remote: RemoteEndpoint;
  readonly #handlers: ConnectionHandlers;
  /** Accepting side: stop reading requests while our responses cannot be written. */
  readonly #pauseReadingWhenFull: boolean;
  readonly #pending = new Map<number, PendingCall>();
  readonly #closeListeners = new Set<(error: Error | undefined) => void>();
  #nextId = 1;
  #beingHandled = 0;
  #state: ConnectionState = ConnectionState.Open;
  #goAwaySent = false;
  #goAwayReceived = false;
  #ending = false;
  #readingPaused = false;
  #closeError: Error | undefined;
  #closed: Promise<void>;
  #markClosed!: () => void;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  /** @internal */
  constructor(init: {
    framed: FramedSocket;
    options: ResolvedTransportOptions;
    remote: RemoteEndpoint;
    address: string;
    handlers: ConnectionHandlers;
    accepted: boolean;
  }) {
    this.#framed = init.framed;
    this.#options = init.options;
    this.#remote = init.remote;
    this.#handlers = init.handlers;
    this.#pauseReadingWhenFull = init.accepted;
    this.peer = { id: init.remote.id, role: init.remote.role, address: init.address };
    this.#closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
    this.#framed.decoder.maxFrameBytes = init.options.maxFrameBytes;
    this.#framed.onFrame = (body) => this.#onMessage(parseMessage(body));
    this.#framed.onClose = (error) => this.#onSocketClosed(error);
    this.#framed.onRoom = () => {
      if (this.#readingPaused) {
        this.#readingPaused = false;
        this.#framed.resumeReading();
      }
    };
    if (this.#framed.destroyed) queueMicrotask(() => this.#onSocketClosed(undefined));
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === ConnectionState.Closed;
  }

  /**
   * Sends `payload` and resolves with the peer's response. Waits first while the connection's
   * outstanding bytes are at `maxOutstandingBytes`.
   * @throws a remote handler's error (rebuilt by `fromWireError`), the timeout error, `signal.reason`,
   *   SerializationError (payload cannot be encoded or exceeds the peer's maxFrameBytes),
   *   ShuttingDownError (draining, not sent, retryable) or ConnectionError (dropped; `retryable` is
   *   true only when the request provably was not sent).
   */
  request<T = unknown>(payload: unknown, options: RequestOptions = {}): Promise<T> {
    if (this.#state !== ConnectionState.Open) return Promise.reject(this.#notOpenError());
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const id = this.#nextId++;
      const call: PendingCall = {
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
        sent: false,
      };
      this.#pending.set(id, call);
      if (timeoutMs !== undefined) {
        call.timer = setTimeout(() => {
          const error =
            options.timeoutError?.() ?? new CallTimeoutError(`peer ${this.peer.address}`, "request", timeoutMs);
          this.#take(id)?.reject(error);
        }, timeoutMs);
      }
      if (signal !== undefined) {
        call.onAbort = () => this.#take(id)?.reject(signal.reason);
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      this.#framed.whenRoom(() => {
        if (this.#pending.get(id) !== call) return;
        if (this.#state !== ConnectionState.Open) {
          this.#take(id)?.reject(this.#notOpenError());
          return;
        }
        const body = this.#encodeFor(`request to ${this.peer.address}`, [MessageType.Request, id, payload]);
        if (body instanceof Error) {
          this.#take(id)?.reject(body);
          return;
        }
        call.sent = true;
        this.#framed.write(body);
      });
    });
  }

  /**
   * Sends a one-way message. Resolves once it is queued for the socket (after waiting for room, like
   * {@link request}); there is no acknowledgement.
   */
  send(payload: unknown): Promise<void> {
    if (this.#state !== ConnectionState.Open) return Promise.reject(this.#notOpenError());
    return new Promise<void>((resolve, reject) => {
      this.#framed.whenRoom(() => {
        if (this.#state !== ConnectionState.Open) return reject(this.#notOpenError());
        const body = this.#encodeFor(`message to ${this.peer.address}`, [MessageType.OneWay, payload]);
        if (body instanceof Error) return reject(body);
        this.#framed.write(body);
        resolve();
      });
    });
  }

  /**
   * Registers `listener` for the end of the connection; `error` is undefined for a clean close.
   * Called at once (asynchronously) when already closed. Returns a function that unregisters it.
   */
  onClose(listener: (error: Error | undefined) => void): () => void {
    if (this.#state === ConnectionState.Closed) {
      queueMicrotask(() => listener(this.#closeError));
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /**
   * Closes gracefully: tells the peer (which then sends no new requests), lets calls in flight both
   * ways be answered, then closes the socket. After `closeGraceMs` the socket is destroyed and what
   * is still in flight fails with ConnectionError. Resolves when the socket has closed.
   */
  close(): Promise<void> {
    if (this.#state === ConnectionState.Closed) return this.#closed;
    if (!this.#goAwaySent) {
      this.#startDraining();
      this.#graceTimer = setTimeout(() => {
        this.#options.logger.warn(
          { peer: this.peer, requestsInFlight: this.#pending.size, requestsBeingHandled: this.#beingHandled },
          "transport: graceful close timed out (closeGraceMs); destroying the connection",
        );
        this.#framed.destroy(new ConnectionError(`graceful close of ${this.peer.address} timed out (closeGraceMs)`));
      }, this.#options.closeGraceMs);
      this.#graceTimer.unref();
    }
    this.#maybeFinishDraining();
    return this.#closed;
  }

  /** Closes at once. Calls in flight fail with ConnectionError (`error` as its cause). */
  destroy(error?: Error): Promise<void> {
    this.#framed.destroy(error);
    return this.#closed;
  }

  stats(): ConnectionStats {
    return { ...this.#framed.stats(), requestsInFlight: this.#pending.size, requestsBeingHandled: this.#beingHandled };
  }

  #onMessage(message: Message): void {
    switch (message.type) {
      case MessageType.Request:
        this.#handleRequest(message.id, message.payload);
        return;
      case MessageType.Response:
        this.#settleFromPeer(message.id)?.resolve(message.value);
        return;
      case MessageType.ErrorResponse:
        this.#settleFromPeer(message.id)?.reject(fromWireError(message.error, this.#options.errorClasses));
        return;
      case MessageType.OneWay:
        try {
          this.#handlers.onMessage?.(message.payload, this);
        } catch (error) {
          this.#options.logger.error({ peer: this.peer, err: error }, "transport: onMessage handler threw");
        }
        return;
      case MessageType.GoAway:
        this.#onGoAway();
        return;
    }
  }

  #handleRequest(id: number, payload: unknown): void {
    const handler = this.#handlers.onRequest;
    if (this.#goAwaySent) {
      this.#respond(id, MessageType.ErrorResponse, toWireError(new ShuttingDownError(`endpoint ${this.#options.id}`)));
      return;
    }
    if (handler === undefined) {
      const error = new ConnectionError(
        `endpoint ${this.#options.id} accepts no requests (it has no onRequest handler)`,
      );
      this.#respond(id, MessageType.ErrorResponse, toWireError(error));
      return;
    }
    this.#beingHandled++;
    let result: unknown;
    try {
      result = handler(payload, this);
    } catch (error) {
      this.#answered(id, MessageType.ErrorResponse, toWireError(error));
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        (value) => this.#answered(id, MessageType.Response, value),
        (error: unknown) => this.#answered(id, MessageType.ErrorResponse, toWireError(error)),
      );
    } else {
      this.#answered(id, MessageType.Response, result);
    }
  }

  #answered(id: number, type: typeof MessageType.Response | typeof MessageType.ErrorResponse, value: unknown): void {
    this.#beingHandled--;
    this.#respond(id, type, value);
    this.#maybeFinishDraining();
  }

  #respond(id: number, type: typeof MessageType.Response | typeof MessageType.ErrorResponse, value: unknown): void {
    if (this.#state === ConnectionState.Closed) {
      this.#options.logger.debug({ peer: this.peer, callId: id }, "transport: response dropped, connection closed");
      return;
    }
    let body = this.#encodeFor(`response to ${this.peer.address}`, [type, id, value]);
    if (body instanceof Error) body = encode([MessageType.ErrorResponse, id, toWireError(body)]);
    this.#framed.write(body);
    if (this.#pauseReadingWhenFull && !this.#readingPaused && !this.#framed.hasRoom) {
      this.#readingPaused = true;
      this.#framed.pauseReading();
    }
  }

  #encodeFor(what: string, message: unknown[]): Buffer | SerializationError {
    let body: Buffer;
    try {
      body = encode(message);
    } catch (error) {
      return error instanceof SerializationError ? error : new SerializationError(messageOf(error), { cause: error });
    }
    if (body.length > this.#remote.maxFrameBytes) {
      return new SerializationError(
        `${what} encodes to ${body.length} bytes, above the peer's maxFrameBytes (${this.#remote.maxFrameBytes}); send less, or raise maxFrameBytes on every silo and client`,
        { data: { bytes: body.length, maxFrameBytes: this.#remote.maxFrameBytes } },
      );
    }
    return body;
  }

  #settleFromPeer(id: number): PendingCall | undefined {
    const call = this.#take(id);
    if (call === undefined) {
      this.#options.logger.debug(
        { peer: this.peer, callId: id },
        "transport: late response ignored (timed out or aborted)",
      );
    }
    this.#maybeFinishDraining();
    return call;
  }

  #take(id: number): PendingCall | undefined {
    const call = this.#pending.get(id);
    if (call === undefined) return undefined;
    this.#pending.delete(id);
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    return call;
  }

  #onGoAway(): void {
    this.#goAwayReceived = true;
    // The peer is closing: acknowledge, so it knows no request of ours is still on its way.
    if (!this.#goAwaySent) this.#startDraining();
    this.#maybeFinishDraining();
  }

  /** Sends GoAway and refuses what was not sent yet: those calls provably did not execute. */
  #startDraining(): void {
    this.#goAwaySent = true;
    this.#state = ConnectionState.Draining;
    this.#framed.write(encode([MessageType.GoAway]));
    for (const [id, call] of this.#pending) {
      if (!call.sent) this.#take(id)?.reject(this.#notOpenError());
    }
  }

  #maybeFinishDraining(): void {
    if (this.#state !== ConnectionState.Draining || !this.#goAwayReceived) return;
    if (this.#pending.size > 0 || this.#beingHandled > 0 || this.#ending) return;
    this.#ending = true;
    this.#framed.end();
  }

  #notOpenError(): Error {
    if (this.#state === ConnectionState.Draining) return new ShuttingDownError(`connection to ${this.peer.address}`);
    return new ConnectionError(`connection to ${this.peer.address} is closed; the call was not sent`, {
      retryable: true,
      ...(this.#closeError ? { cause: this.#closeError } : {}),
    });
  }

  #onSocketClosed(error: Error | undefined): void {
    if (this.#state === ConnectionState.Closed) return;
    this.#state = ConnectionState.Closed;
    this.#closeError = error;
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    const reason = error === undefined ? "the peer closed it" : messageOf(error);
    const calls = [...this.#pending.keys()].map((id) => this.#take(id)!);
    for (const call of calls) {
      call.reject(
        new ConnectionError(
          call.sent
            ? `connection to ${this.peer.address} dropped while the request was in flight (${reason}); it may have executed`
            : `connection to ${this.peer.address} dropped before the request was sent (${reason})`,
          { retryable: !call.sent, ...(error ? { cause: error } : {}) },
        ),
      );
    }
    this.#framed.releaseWaiters();
    this.#options.logger.debug({ peer: this.peer, reason }, "transport: connection closed");
    for (const listener of this.#closeListeners) {
      try {
        listener(error);
      } catch (listenerError) {
        this.#options.logger.error({ err: listenerError }, "transport: onClose listener threw");
      }
    }
    this.#closeListeners.clear();
    this.#markClosed();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
