import { ShuttingDownError } from "@granary/core";
import pg from "pg";
import type { ResolvedPostgresOptions } from "../postgres-options.js";
import { connectionError } from "./error-mapping.js";
import { migrate } from "./migrations.js";
import { quoteIdent } from "./sql.js";

/**
 * A store's access to PostgreSQL: the pool (its own, or the caller's), migrations run once before
 * the first query, and a close that lets operations already started finish first.
 */
export class Connection {
  readonly pool: pg.Pool;
  /** The schema as a quoted identifier, for SQL text. */
  readonly s: string;
  /** `host:port/database`, for error messages (never the password). */
  readonly where: string;
  readonly #options: ResolvedPostgresOptions;
  readonly #ownsPool: boolean;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #what: string;
  #ready: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedPostgresOptions, what: string) {
    this.#options = options;
    this.#what = what;
    this.#ownsPool = options.pool === undefined;
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.poolSize });
    this.s = quoteIdent(options.schema);
    this.where = describeTarget(options.connectionString);
    if (this.#ownsPool) {
      // An idle connection that breaks (server restart) must not crash the process; the pool drops it.
      this.pool.on("error", (error) =>
        options.logger.warn({ error: error.message }, "idle PostgreSQL connection lost"),
      );
      // A checked-out connection that breaks between queries (server killed while a caller holds
      // it) emits "error" on the client itself; the caller's next query fails with it anyway, so
      // here it must only be observed, or it would crash the process as an unhandled event.
      this.pool.on("connect", (client) => {
        client.on("error", () => {});
      });
    }
  }

  /** Runs `operation` after migrations; close() waits for it. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new ShuttingDownError(this.#what));
    const promise = this.#ensureReady()
      .then(operation)
      .catch((error: unknown) => {
        throw connectionError(error, this.where);
      });
    this.#inFlight.add(promise);
    const forget = (): void => {
      this.#inFlight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  /** Waits for operations in flight, then ends the pool if Granary opened it. Idempotent. */
  close(beforeEnd: () => Promise<void> = async () => {}): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      await beforeEnd();
      if (this.#ownsPool) await this.pool.end();
    })();
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  #ensureReady(): Promise<void> {
    if (!this.#ready) {
      const ready = migrate(this.pool, this.#options.schema, this.#options.logger);
      this.#ready = ready;
      // A failed migration (database down) is retried by the next operation.
      ready.catch(() => {
        if (this.#ready === ready) this.#ready = undefined;
      });
    }
    return this.#ready;
  }
}

function describeTarget(connectionString: string | undefined): string {
  if (!connectionString) return "the given pool";
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || "5432"}${url.pathname}`;
  } catch {
    return "the configured server";
  }
}
