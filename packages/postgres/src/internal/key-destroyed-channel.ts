import type pg from "pg";
import type { PostgresLogger } from "../postgres-options.js";

type Listener = (subject: string, destroyedAt: string) => void;

const LISTEN_RETRY_MS = 1_000;

/**
 * Tells every process on the same database at once when a subject's key is destroyed, so other
 * silos drop it from their key caches instead of using it until their cache entry expires. NOTIFY
 * on `<schema>_keys` after the destroy commits, `{ namespace, subject, destroyedAt }` as payload;
 * one pooled connection LISTENs while anyone watches. At most once, like the port promises: a lost
 * notification only leaves the cache's bounded re-read time.
 */
export class KeyDestroyedChannel {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #namespace: string;
  readonly #logger: PostgresLogger;
  readonly #listeners = new Set<Listener>();
  #client: pg.PoolClient | undefined;
  #connecting: Promise<void> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(pool: pg.Pool, schema: string, namespace: string, logger: PostgresLogger) {
    this.#pool = pool;
    this.#channel = `${schema}_keys`;
    this.#namespace = namespace;
    this.#logger = logger;
  }

  /** After a committed destroy. Never throws: the destroy itself already succeeded. */
  async notify(subject: string, destroyedAt: string): Promise<void> {
    const payload = JSON.stringify({ namespace: this.#namespace, subject, destroyedAt });
    await this.#pool.query("SELECT pg_notify($1, $2)", [this.#channel, payload]).catch((error: Error) => {
      this.#logger.warn(
        { channel: this.#channel, error: error.message },
        "could not NOTIFY other silos of a destroyed key; their caches drop it when the entry expires",
      );
    });
  }

  watch(listener: Listener): () => void {
    this.#listeners.add(listener);
    this.#ensureListening();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) void this.#stopListening();
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#stopListening();
  }

  #ensureListening(): void {
    if (this.#closed || this.#client || this.#connecting || this.#retry) return;
    this.#connecting = this.#listen().finally(() => {
      this.#connecting = undefined;
    });
  }

  async #listen(): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      client.on("notification", (message) => this.#deliver(message));
      client.on("error", (error) => this.#drop(client, error));
      await client.query(`LISTEN "${this.#channel}"`);
      if (this.#closed || this.#listeners.size === 0) {
        client.release();
        return;
      }
      this.#client = client;
    } catch (error) {
      client?.release(error as Error);
      this.#scheduleRetry(error as Error);
    }
  }

  #deliver(message: pg.Notification): void {
    if (message.channel !== this.#channel || !message.payload) return;
    let notice: { namespace?: unknown; subject?: unknown; destroyedAt?: unknown };
    try {
      notice = JSON.parse(message.payload) as typeof notice;
    } catch {
      return; // not ours
    }
    if (notice.namespace !== this.#namespace) return;
    if (typeof notice.subject !== "string" || typeof notice.destroyedAt !== "string") return;
    for (const listener of this.#listeners) listener(notice.subject, notice.destroyedAt);
  }

  #drop(client: pg.PoolClient | undefined, error: Error): void {
    if (!client || this.#client !== client) return;
    this.#client = undefined;
    client.release(error);
    this.#scheduleRetry(error);
  }

  #scheduleRetry(error: Error): void {
    if (this.#closed || this.#listeners.size === 0) return;
    this.#logger.warn(
      { channel: this.#channel, error: error.message },
      "could not LISTEN for destroyed keys; retrying (caches meanwhile drop keys when their entries expire)",
    );
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#ensureListening();
    }, LISTEN_RETRY_MS);
    this.#retry.unref();
  }

  async #stopListening(): Promise<void> {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    await client.query(`UNLISTEN "${this.#channel}"`).catch(() => {});
    client.release();
  }
}
