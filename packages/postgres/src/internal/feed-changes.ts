import { ChangeSignal } from "@granary/core";
import type pg from "pg";
import type { PostgresLogger } from "../postgres-options.js";

/**
 * Wake-ups for feed subscribers, so they need not poll: appends in this process fire at once;
 * appends in other processes arrive by LISTEN/NOTIFY on `<schema>_feed` with the namespace as
 * payload. Subscribers still poll (about once a second) when nothing arrives, so a lost
 * notification or a dropped LISTEN connection only costs latency, never events.
 *
 * The NOTIFY is sent after the append commits, on its own, not inside the append: PostgreSQL
 * serializes the commits of all transactions that NOTIFY (a global lock held through the commit
 * flush), which would serialize every append. At most one NOTIFY per store is in flight; appends
 * meanwhile are coalesced into the next one.
 */
const LISTEN_RETRY_MS = 5_000;

export class FeedChanges {
  readonly #signal = new ChangeSignal();
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #namespace: string;
  readonly #logger: PostgresLogger;
  #listener: pg.PoolClient | undefined;
  #listening: Promise<void> | undefined;
  #notifying: Promise<void> | undefined;
  #notifyAgain = false;
  #retryListenAt = 0;
  #closed = false;
  #notificationsReceived = 0;

  constructor(pool: pg.Pool, schema: string, namespace: string, logger: PostgresLogger) {
    this.#pool = pool;
    this.#channel = `${schema}_feed`;
    this.#namespace = namespace;
    this.#logger = logger;
  }

  /** After a committed append: wake local subscribers and tell other processes. */
  appended(): void {
    this.#signal.fire();
    if (this.#closed) return;
    if (this.#notifying) {
      this.#notifyAgain = true;
      return;
    }
    this.#notifying = this.#notifyLoop();
  }

  /** How many wake-ups this store has had (local appends, notifications for its namespace, LISTEN established). */
  get generation(): number {
    return this.#signal.generation;
  }

  /** How many notifications on the channel arrived, for any namespace (most are someone else's). */
  get notificationsReceived(): number {
    return this.#notificationsReceived;
  }

  /** Resolves on the next change (or after maxWaitMs); starts listening on first use. */
  wait(signal: AbortSignal, maxWaitMs: number): Promise<void> {
    if (!this.#closed && !this.#listener && !this.#listening && Date.now() >= this.#retryListenAt) {
      this.#listening = this.#listen();
    }
    return this.#signal.wait(signal, maxWaitMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#notifying;
    await this.#listening;
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener) {
      await listener.query(`UNLISTEN "${this.#channel}"`).catch(() => {});
      listener.release();
    }
  }

  async #notifyLoop(): Promise<void> {
    try {
      do {
        this.#notifyAgain = false;
        await this.#pool.query("SELECT pg_notify($1, $2)", [this.#channel, this.#namespace]);
      } while (this.#notifyAgain && !this.#closed);
    } catch (error) {
      this.#logger.warn(
        { channel: this.#channel, error: (error as Error).message },
        "could not NOTIFY feed subscribers in other processes; they fall back to polling",
      );
    } finally {
      this.#notifying = undefined;
    }
  }

  async #listen(): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      client.on("notification", (message) => {
        if (message.channel !== this.#channel) return;
        this.#notificationsReceived++;
        if (message.payload === this.#namespace) this.#signal.fire();
      });
      client.on("error", (error) => this.#dropListener(client, error));
      await client.query(`LISTEN "${this.#channel}"`);
      if (this.#closed) {
        client.release();
        return;
      }
      this.#listener = client;
      // Events committed while we were not listening: let waiters re-read.
      this.#signal.fire();
    } catch (error) {
      if (client) client.release(error as Error);
      this.#retryListenAt = Date.now() + LISTEN_RETRY_MS;
      if (!this.#closed) {
        this.#logger.warn(
          { channel: this.#channel, error: (error as Error).message },
          "could not LISTEN for feed changes; subscribers poll until it succeeds",
        );
      }
    } finally {
      this.#listening = undefined;
    }
  }

  #dropListener(client: pg.PoolClient | undefined, error: Error): void {
    if (!client || this.#listener !== client) return;
    this.#listener = undefined;
    client.release(error);
    if (!this.#closed) {
      this.#logger.warn(
        { channel: this.#channel, error: error.message },
        "LISTEN connection lost; subscribers poll until it is re-established",
      );
    }
  }
}
