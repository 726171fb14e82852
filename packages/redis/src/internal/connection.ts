import { ConnectionError, isGranaryError, messageOf } from "@granary/core";
import { Redis } from "ioredis";
import type { RedisLogger, ResolvedRedisOptions } from "../redis-options.js";
import type { LuaScript } from "./lua-script.js";

/** Reply errors that mean "the server cannot serve right now", not "the command is wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|READONLY)\b/;
const noop = (): void => {};

/**
 * One Redis client as Granary uses it: fail fast instead of hanging while Redis is down, reconnect
 * by itself, every failure surfaced as ConnectionError naming the server. Also owns the pub/sub
 * connection (opened on first `listen`). Internal: one per adapter; adapters given the same ioredis
 * instance (`openSharedRedis`) share its command connection. Applications never see it.
 */
export class RedisConnection {
  readonly client: Redis;
  /** The server, for messages (password removed). */
  readonly url: string;
  readonly #owned: boolean;
  readonly #logger: RedisLogger;
  readonly #connectTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  /** Commands sent and not answered yet; close() waits for them (`#drained` resolves at zero). */
  #inflight = 0;
  #drained: (() => void) | undefined;
  readonly #listeners = new Map<string, Set<(message: string) => void>>();
  readonly #detach: (() => void)[] = [];
  #subscriber: Redis | undefined;
  /** A connection was lost (or never made) and is not back yet: commands fail at once. */
  #down = false;
  #lastError: Error | undefined;
  #closing: Promise<void> | undefined;
  #connecting: Promise<void> | undefined;
  #everReady = false;

  constructor(options: ResolvedRedisOptions) {
    this.#logger = options.logger;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#commandTimeoutMs = options.commandTimeoutMs;
    if (typeof options.redis === "string") {
      this.#owned = true;
      this.client = new Redis(options.redis, {
        lazyConnect: true,
        // Commands fail while disconnected instead of queueing (a queued append would hang the
        // caller's turn); in-flight ones fail when the connection drops. Reconnecting never stops.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        connectTimeout: options.connectTimeoutMs,
        commandTimeout: options.commandTimeoutMs,
        retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
        // Plain commands issued in the same tick go out in one write (scripts: see LuaScript).
        enableAutoPipelining: true,
      });
    } else {
      this.#owned = false;
      this.client = options.redis;
    }
    this.url = describeServer(this.client, typeof options.redis === "string" ? options.redis : undefined);
    this.#watchClient(this.client);
  }

  /** Runs `command` once connected, translating failures into ConnectionError. */
  run<T>(command: (client: Redis) => Promise<T>): Promise<T> {
    const client = this.client;
    let running: Promise<T>;
    // Connected (nearly always): no promise for the readiness check, one reaction per command.
    if (client.status === "ready") {
      try {
        running = command(client);
      } catch (error) {
        running = Promise.reject(error);
      }
    } else {
      running = this.#ready().then(() => command(client));
    }
    this.#inflight++;
    return running.then(
      (value) => {
        this.#settled();
        return value;
      },
      (error: unknown) => {
        this.#settled();
        throw this.#translate(error);
      },
    );
  }

  #settled(): void {
    if (--this.#inflight === 0) this.#drained?.();
  }

  script(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return this.run((client) => script.run(client, keys, args));
  }

  /** Calls `onMessage` for each message published on `channel`; returns the unlisten function. */
  listen(channel: string, onMessage: (message: string) => void): () => void {
    let handlers = this.#listeners.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#listeners.set(channel, handlers);
      if (this.#subscriber?.status === "ready") this.#subscriber.subscribe(channel).catch(noop);
    }
    handlers.add(onMessage);
    this.#ensureSubscriber();
    return () => {
      const current = this.#listeners.get(channel);
      current?.delete(onMessage);
      if (current?.size === 0) {
        this.#listeners.delete(channel);
        if (this.#subscriber?.status === "ready") this.#subscriber.unsubscribe(channel).catch(noop);
      }
    };
  }

  /** Waits for commands in flight, then closes what this connection opened. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  async #close(): Promise<void> {
    if (this.#inflight > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#listeners.clear();
    if (subscriber) await quit(subscriber);
    if (this.#owned) await quit(this.client);
    for (const detach of this.#detach) detach();
  }

  async #ready(): Promise<void> {
    const client = this.client;
    if (client.status === "ready") return;
    if (this.#closing) {
      throw new ConnectionError(`the connection to Redis at ${this.url} was closed (close() was called)`);
    }
    if (this.#down) throw this.#unreachable(this.#lastError?.message ?? "the connection was closed", true);
    this.#connecting ??= this.#waitForConnection().finally(() => {
      this.#connecting = undefined;
    });
    await this.#connecting;
  }

  /** One wait shared by every command issued while the first connection is being made. */
  #waitForConnection(): Promise<void> {
    const client = this.client;
    if (client.status === "wait") client.connect().catch(noop);
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: ConnectionError): void => {
        clearTimeout(timer);
        client.off("ready", onReady);
        client.off("close", onClose);
        client.off("end", onClose);
        if (error) reject(error);
        else resolve();
      };
      const onReady = (): void => finish();
      const onClose = (): void =>
        finish(this.#unreachable(this.#lastError?.message ?? "the connection was closed", true));
      const timer = setTimeout(
        () => finish(this.#unreachable(`no connection within ${this.#connectTimeoutMs} ms (connectTimeoutMs)`, true)),
        this.#connectTimeoutMs,
      );
      client.once("ready", onReady);
      client.once("close", onClose);
      client.once("end", onClose);
    });
  }

  #translate(error: unknown): unknown {
    if (isGranaryError(error)) return error;
    const message = messageOf(error);
    const name = (error as { name?: unknown } | null)?.name;
    if (name === "ReplyError" && !TRANSIENT_REPLY.test(message)) return error;
    if (/Command timed out/i.test(message)) {
      return new ConnectionError(
        `Redis at ${this.url} did not answer within ${this.#commandTimeoutMs} ms (commandTimeoutMs); the command may or may not have been applied`,
        { cause: error, data: { redis: this.url } },
      );
    }
    // Not written to the socket: the command provably had no effect.
    const notSent = /enableOfflineQueue|Stream isn't writeable/i.test(message);
    return this.#unreachable(message, notSent, error);
  }

  #unreachable(reason: string, retryable: boolean, cause?: unknown): ConnectionError {
    return new ConnectionError(
      `Redis at ${this.url} is unreachable: ${reason}. Commands fail at once while it is down and the client reconnects by itself; retry once Redis is back`,
      { cause, retryable, data: { redis: this.url } },
    );
  }

  #watchClient(client: Redis): void {
    const onReady = (): void => {
      this.#everReady = true;
      this.#down = false;
      this.#lastError = undefined;
    };
    const onClose = (): void => {
      if (!this.#down && !this.#closing) {
        this.#logger.warn(
          { redis: this.url, err: this.#lastError?.message },
          `${this.#everReady ? "lost the connection to" : "cannot connect to"} Redis at ${this.url}; commands fail with ConnectionError until it is back, reconnecting`,
        );
      }
      this.#down = true;
    };
    client.on("ready", onReady);
    client.on("close", onClose);
    this.#detach.push(() => {
      client.off("ready", onReady);
      client.off("close", onClose);
    });
    // Only on clients we own: an "error" listener on the application's instance would change how
    // ioredis reports its errors.
    if (this.#owned) client.on("error", (error: Error) => this.#onError(error));
  }

  #onError(error: Error): void {
    this.#lastError = error;
  }

  #ensureSubscriber(): void {
    if (this.#subscriber || this.#closing) return;
    // A dedicated connection: a client in subscriber mode cannot run other commands.
    const subscriber = this.client.duplicate({ lazyConnect: true, autoResubscribe: false });
    // Its errors are the same outage the command connection reports; polling covers the gap.
    subscriber.on("error", noop);
    subscriber.on("ready", () => {
      const channels = [...this.#listeners.keys()];
      if (channels.length > 0) subscriber.subscribe(...channels).catch(noop);
    });
    subscriber.on("message", (channel: string, message: string) => {
      for (const handler of this.#listeners.get(channel) ?? []) handler(message);
    });
    subscriber.connect().catch(noop);
    this.#subscriber = subscriber;
  }
}

async function quit(client: Redis): Promise<void> {
  if (client.status === "ready") {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through: drop the socket.
    }
  }
  client.disconnect();
}

function describeServer(client: Redis, url: string | undefined): string {
  if (url !== undefined) {
    if (url.startsWith("/")) return url;
    const parsed = new URL(url);
    parsed.password = "";
    parsed.username = "";
    return parsed.toString().replace(/\/$/, "");
  }
  const { host, port, path, db } = client.options;
  if (path) return path;
  return `redis://${host ?? "localhost"}:${port ?? 6379}${db ? `/${db}` : ""}`;
}
