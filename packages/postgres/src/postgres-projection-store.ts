import {
  type Checkpoint,
  CheckpointConflictError,
  checkListOptions,
  type DocumentPage,
  type JsonValue,
  type ListDocumentsOptions,
  type ProjectionCommit,
  ProjectionFencedError,
  type ProjectionStore,
  validateCommit,
} from "@granary/core";
import type pg from "pg";
import { Connection } from "./internal/connection.js";
import { type PostgresStoreOptions, resolvePostgresOptions } from "./postgres-options.js";

interface CheckpointRow {
  readonly projection: string;
  readonly position: string;
  readonly epoch: string;
  readonly ready: boolean;
}

interface CommitRow {
  readonly outcome: "ok" | "fenced" | "conflict";
  readonly current_position: string;
  readonly current_epoch: string;
}

/**
 * Projection documents (jsonb) and checkpoints in the event store's PostgreSQL database and
 * schema. A commit is one call of `projection_commit` (one statement, one transaction) that checks
 * the epoch and the expected position under the checkpoint row's lock, so documents and checkpoint
 * move together or not at all. With a `transaction` callback the commit runs in an explicit
 * transaction on one connection and the callback gets that pg client for its own writes. Every
 * write is a call of one of Granary's functions, so it also works as a least-privilege application
 * role (see grantApplicationRole); the tables come with the event store's migrations.
 */
export class PostgresProjectionStore implements ProjectionStore {
  readonly namespace: string;
  readonly #db: Connection;
  /** The statements of the live path, named so each connection parses and plans them once. */
  readonly #sql: { readonly commit: string; readonly documents: string; readonly head: string };

  /** @throws InvalidConfigurationError naming the invalid option. */
  constructor(options: PostgresStoreOptions) {
    const resolved = resolvePostgresOptions(options);
    this.#db = new Connection(resolved, "PostgresProjectionStore");
    this.namespace = resolved.namespace;
    const s = this.#db.s;
    this.#sql = {
      commit: `SELECT outcome, current_position, current_epoch
        FROM ${s}.projection_commit($1, $2, $3, $4, $5, $6, $7, $8::jsonb[], $9)`,
      documents: `SELECT key, document FROM ${s}.projection_documents
        WHERE namespace = $1 AND projection = $2 AND key = ANY ($3)`,
      head: `SELECT max(position) AS head FROM ${s}.events WHERE namespace = $1`,
    };
  }

  #named(name: "commit" | "documents" | "head", values: unknown[]): pg.QueryConfig {
    return { name: `granary:${this.#db.s}:projection-${name}`, text: this.#sql[name], values };
  }

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    const { rows } = await this.#query<CheckpointRow>(
      `SELECT projection, position, epoch, ready FROM ${this.#db.s}.projection_checkpoints
       WHERE namespace = $1 AND projection = $2`,
      [this.namespace, projection],
    );
    return rows[0] && toCheckpoint(rows[0]);
  }

  async commit(projection: string, commit: ProjectionCommit): Promise<void> {
    validateCommit(projection, commit);
    const keys: string[] = [];
    const documents: string[] = [];
    const deleted: string[] = [];
    for (const [key, document] of commit.documents ?? []) {
      if (document === null) deleted.push(key);
      else {
        keys.push(key);
        documents.push(JSON.stringify(document));
      }
    }
    const values = [
      this.namespace,
      projection,
      commit.expectedPosition,
      commit.position,
      commit.epoch ?? 0,
      commit.ready === true,
      keys,
      documents,
      deleted,
    ];
    const statement = this.#named("commit", values);
    const transaction = commit.transaction;
    const row = await this.#db.run(async () => {
      if (!transaction) return (await this.#db.pool.query<CommitRow>(statement)).rows[0] as CommitRow;
      return this.#inTransaction(async (client) => {
        const result = (await client.query<CommitRow>(statement)).rows[0] as CommitRow;
        if (result.outcome === "ok") await transaction(client);
        return result;
      });
    });
    if (row.outcome === "fenced") {
      throw new ProjectionFencedError(projection, commit.epoch ?? 0, Number(row.current_epoch));
    }
    if (row.outcome === "conflict") {
      throw new CheckpointConflictError(projection, commit.expectedPosition, Number(row.current_position));
    }
  }

  async getDocuments(projection: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const out = new Map<string, JsonValue>();
    if (keys.length === 0) return out;
    const statement = this.#named("documents", [this.namespace, projection, keys]);
    const { rows } = await this.#db.run(() => this.#db.pool.query<{ key: string; document: JsonValue }>(statement));
    for (const row of rows) out.set(row.key, row.document);
    return out;
  }

  async getDocument(projection: string, key: string): Promise<JsonValue | undefined> {
    return (await this.getDocuments(projection, [key])).get(key);
  }

  async listDocuments(projection: string, options: ListDocumentsOptions): Promise<DocumentPage> {
    checkListOptions(options);
    const prefix = options.prefix ?? "";
    // COLLATE "C": byte order, the same on every server whatever its locale, and index-friendly.
    const { rows } = await this.#query<{ key: string; document: JsonValue }>(
      `SELECT key, document FROM ${this.#db.s}.projection_documents
       WHERE namespace = $1 AND projection = $2 AND ($3::text IS NULL OR key COLLATE "C" > $3)
         AND left(key, length($4)) = $4
       ORDER BY key COLLATE "C" LIMIT $5`,
      [this.namespace, projection, options.after ?? null, prefix, options.limit + 1],
    );
    const page = rows.slice(0, options.limit);
    return {
      items: page.map((row) => ({ key: row.key, document: row.document })),
      next: rows.length > options.limit ? page.at(-1)?.key : undefined,
    };
  }

  async countDocuments(projection: string): Promise<number> {
    const { rows } = await this.#query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.#db.s}.projection_documents WHERE namespace = $1 AND projection = $2`,
      [this.namespace, projection],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async checkpoints(): Promise<Map<string, Checkpoint>> {
    const { rows } = await this.#query<CheckpointRow>(
      `SELECT projection, position, epoch, ready FROM ${this.#db.s}.projection_checkpoints WHERE namespace = $1`,
      [this.namespace],
    );
    return new Map(rows.map((row) => [row.projection, toCheckpoint(row)]));
  }

  async drop(projection: string): Promise<void> {
    await this.#query(`SELECT ${this.#db.s}.drop_projection($1, $2)`, [this.namespace, projection]);
  }

  async headPosition(): Promise<number> {
    const statement = this.#named("head", [this.namespace]);
    const { rows } = await this.#db.run(() => this.#db.pool.query<{ head: string | null }>(statement));
    return Number(rows[0]?.head ?? 0);
  }

  /** Lets operations in flight finish; ends the pool only if this store opened it. */
  close(): Promise<void> {
    return this.#db.close();
  }

  #query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.#db.run(() => this.#db.pool.query<R>(text, values));
  }

  async #inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#db.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollback: Error) => {
        broken = rollback;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return { position: Number(row.position), epoch: Number(row.epoch), ready: row.ready };
}
