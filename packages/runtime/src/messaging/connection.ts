import {
  ConnectionError,
  encode,
  fromWireError,
  messageOf,
  SerializationError,
  ShuttingDownError,
  toWireError,
} from "@granary/core";
import {
  ConnectionState,
  type ConnectionStats,
  type PeerInfo,
  REPLY_LATER,
  type Reply,
  type RequestOptions,
  type ResponseSink,
} from "./connection-types.js";
import type { FramedSocket } from "./framed-socket.js";
import type { RemoteEndpoint } from "./handshake.js";
import { watchPartialFrames } from "./partial-frame-watchdog.js";
import { type PendingCall, PendingCalls } from "./pending-calls.js";
import { type Answer, PendingReply } from "./pending-reply.js";
import { callIdOf, decodeArrayAt, MessageType, ownerHintOf, unexpectedMessage, wireErrorOf } from "./protocol.js";
import type { ResolvedTransportOptions } from "./transport-options.js";

/**
 * Answers a request. Return the response (or a promise of it); a throw or rejection reaches the
 * caller as the same error (name, code, message, data) through `toWireError` / `fromWireError`.
 * Or answer through `reply` (no promise needed) and return {@link REPLY_LATER}; then the request
 * counts as being handled until `reply` is settled.
 */
export type RequestHandler = (payload: unknown, from: TransportConnection, reply: Reply) => unknown;

/** Receives a one-way message. Errors it throws are logged, never sent back. */
export type MessageHandler = (payload: unknown, from: TransportConnection) => void;

export interface ConnectionHandlers {
  readonly onRequest?: RequestHandler | undefined;
  readonly onMessage?: MessageHandler | undefined;
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
  readonly #pending: PendingCalls;
  readonly #closeListeners = new Set<(error: Error | undefined) => void>();
  readonly #answer: Answer = (id, type, value, ownerHint) => this.#answered(id, type, value, ownerHint);
  readonly #stopWatchingFrames: () => void;
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
    this.#pending = new PendingCalls(`peer ${init.address}`);
    this.#closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
    this.#framed.decoder.maxFrameBytes = init.options.maxFrameBytes;
    this.#framed.logContext = { peer: this.peer };
    this.#stopWatchingFrames = watchPartialFrames(
      this.#framed,
      init.options.partialFrameTimeoutMs,
      this.peer,
      init.options.logger,
    );
    this.#framed.onFrameAt = (source, start, end) => this.#onFrame(decodeArrayAt(source, start, end));
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
  request<T = unknown>(payload: unknown, options?: RequestOptions): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.requestTo(payload, { resolve: resolve as (value: unknown) => void, reject }, options),
    );
  }

  /**
   * {@link request} without a promise: the outcome goes to `sink` (once), including the errors
   * `request` rejects with. For callers that already hold an object per call.
   */
  requestTo(payload: unknown, sink: ResponseSink, options?: RequestOptions): void {
    if (this.#state !== ConnectionState.Open) {
      sink.reject(this.#notOpenError());
      return;
    }
    if (options?.signal?.aborted) {
      sink.reject(options.signal.reason);
      return;
    }
    const { id, call } = this.#pending.add(sink, options);
    // Room now (the usual case): write at once, without a callback to wait in line.
    if (this.#framed.canWrite) this.#sendRequest(id, call, payload);
    else this.#framed.whenRoom(() => this.#sendRequest(id, call, payload));
  }

  #sendRequest(id: number, call: PendingCall, payload: unknown): void {
    if (!this.#pending.holds(id, call)) return;
    if (this.#state !== ConnectionState.Open) {
      this.#pending.take(id)?.sink.reject(this.#notOpenError());
      return;
    }
    const body = this.#encodeFor("request", [MessageType.Request, id, payload]);
    if (body instanceof Error) {
      this.#pending.take(id)?.sink.reject(body);
      return;
    }
    call.sent = true;
    this.#framed.write(body);
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
        const body = this.#encodeFor("message", [MessageType.OneWay, payload]);
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

  /** Requests from the peer being handled now (received, not yet answered). */
  get requestsBeingHandled(): number {
    return this.#beingHandled;
  }

  stats(): ConnectionStats {
    return { ...this.#framed.stats(), requestsInFlight: this.#pending.size, requestsBeingHandled: this.#beingHandled };
  }

  /** One frame after the handshake (see protocol.ts); a frame that breaks the protocol throws. */
  #onFrame(frame: unknown[]): void {
    // Read in place: no message object per frame.
    switch (frame[0]) {
      case MessageType.Request:
        this.#handleRequest(callIdOf(frame[1]), frame[2]);
        return;
      case MessageType.Response:
        this.#settleFromPeer(callIdOf(frame[1]))?.sink.resolve(frame[2], ownerHintOf(frame));
        return;
      case MessageType.ErrorResponse: {
        const id = callIdOf(frame[1]);
        const error = wireErrorOf(frame[2]);
        this.#settleFromPeer(id)?.sink.reject(fromWireError(error, this.#options.errorClasses), ownerHintOf(frame));
        return;
      }
      case MessageType.OneWay:
        try {
          this.#handlers.onMessage?.(frame[1], this);
        } catch (error) {
          this.#options.logger.error({ peer: this.peer, err: error }, "transport: onMessage handler threw");
        }
        return;
      case MessageType.GoAway:
        this.#onGoAway();
        return;
      default:
        throw unexpectedMessage(frame[0]);
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
    const reply = new PendingReply(this.#answer, id);
    let result: unknown;
    try {
      result = handler(payload, this, reply);
    } catch (error) {
      reply.reject(error);
      return;
    }
    if (result === REPLY_LATER) return;
    if (isPromiseLike(result)) {
      result.then(
        (value) => reply.resolve(value),
        (error: unknown) => reply.reject(error),
      );
    } else {
      reply.resolve(result);
    }
  }

  #answered(
    id: number,
    type: typeof MessageType.Response | typeof MessageType.ErrorResponse,
    value: unknown,
    ownerHint: string | undefined,
  ): void {
    this.#beingHandled--;
    this.#respond(id, type, value, ownerHint);
    this.#maybeFinishDraining();
  }

  #respond(
    id: number,
    type: typeof MessageType.Response | typeof MessageType.ErrorResponse,
    value: unknown,
    ownerHint?: string,
  ): void {
    if (this.#state === ConnectionState.Closed) {
      this.#options.logger.debug({ peer: this.peer, callId: id }, "transport: response dropped, connection closed");
      return;
    }
    let body = this.#encodeFor("response", ownerHint === undefined ? [type, id, value] : [type, id, value, ownerHint]);
    if (body instanceof Error) body = encode([MessageType.ErrorResponse, id, toWireError(body)]);
    this.#framed.write(body);
    if (this.#pauseReadingWhenFull && !this.#readingPaused && !this.#framed.hasRoom) {
      this.#readingPaused = true;
      this.#framed.pauseReading();
    }
  }

  /** @param what "request", "response" or "message" (to the peer), for the error message */
  #encodeFor(what: string, message: unknown[]): Buffer | SerializationError {
    let body: Buffer;
    try {
      body = encode(message);
    } catch (error) {
      return error instanceof SerializationError ? error : new SerializationError(messageOf(error), { cause: error });
    }
    if (body.length > this.#remote.maxFrameBytes) {
      return new SerializationError(
        `${what} to ${this.peer.address} encodes to ${body.length} bytes, above the peer's maxFrameBytes (${this.#remote.maxFrameBytes}); send less, or raise maxFrameBytes on every silo and client`,
        { data: { bytes: body.length, maxFrameBytes: this.#remote.maxFrameBytes } },
      );
    }
    return body;
  }

  #settleFromPeer(id: number): PendingCall | undefined {
    const call = this.#pending.take(id);
    if (call === undefined) {
      this.#options.logger.debug(
        { peer: this.peer, callId: id },
        "transport: late response ignored (timed out or aborted)",
      );
    }
    this.#maybeFinishDraining();
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
    for (const call of this.#pending.takeUnsent()) call.sink.reject(this.#notOpenError());
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
    this.#stopWatchingFrames();
    const reason = error === undefined ? "the peer closed it" : messageOf(error);
    for (const call of this.#pending.takeAll()) {
      call.sink.reject(
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
