import {
  CallTimeoutError,
  type Checkpoint,
  InvalidArgumentError,
  type JsonValue,
  type ProjectionStore,
  projectionId,
} from "@granary/core";
import type { ProjectionRunner } from "./projection-runner.js";

/** Options of every query. */
export interface QueryOptions {
  /**
   * Read-your-writes: first wait until the projection has processed every event committed before
   * the query began (bounded by `timeoutMs`), so a UI sees the write it just made. @default false
   */
  readonly waitForLatest?: boolean;
  /** Bound of the whole query, waiting included. @default the silo's (or client's) call timeout */
  readonly timeoutMs?: number;
}

export interface ListOptions<Doc> extends QueryOptions {
  /** Page size. @default 100 */
  readonly limit?: number;
  /** The `next` cursor of the previous page. */
  readonly after?: string;
  /** Only keys starting with this (runs in the store). */
  readonly prefix?: string;
  /** Only documents for which this holds (runs on the silo; not available through a client). */
  readonly where?: (document: Doc, key: string) => boolean;
}

export interface QueryPage<Doc> {
  readonly items: { readonly key: string; readonly document: Doc }[];
  /** Pass as `after` for the next page; undefined on the last page. */
  readonly next: string | undefined;
}

/** Typed queries of one document projection: `silo.query(SkuStats)` or `client.query(SkuStats)`. */
export interface ProjectionQuery<Doc> {
  get(key: string, options?: QueryOptions): Promise<Doc | undefined>;
  list(options?: ListOptions<Doc>): Promise<QueryPage<Doc>>;
  count(options?: QueryOptions): Promise<number>;
}

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 10_000;
/** How long the version a query reads from is cached (a rebuild's swap is seen within this). */
const VERSION_CACHE_MS = 250;

/**
 * Answers queries from the projection store on any silo (documents are shared), choosing the
 * version to read: the newest version that finished its (re)build, so queries keep answering from
 * the old version while a new one is built side by side. With `waitForLatest`, it first waits for
 * the newest version to reach the head read when the query began (through the local runner's
 * commit signal when it runs here, else by polling the checkpoint), then reads that version.
 */
export class QueryEngine {
  readonly #store: ProjectionStore;
  readonly #localRunner: (id: string) => ProjectionRunner | undefined;
  #checkpoints: { readonly at: number; readonly value: Promise<Map<string, Checkpoint>> } | undefined;

  constructor(store: ProjectionStore, localRunner: (id: string) => ProjectionRunner | undefined) {
    this.#store = store;
    this.#localRunner = localRunner;
  }

  async get(name: string, version: number, key: string, options: QueryOptions, timeoutMs: number): Promise<unknown> {
    if (typeof key !== "string" || key === "") throw new InvalidArgumentError("key must be a non-empty string");
    const id = await this.#readId(name, version, options, timeoutMs, "get");
    if (options.waitForLatest) {
      // The local runner just confirmed it committed past the head: what it holds is that commit
      // (a JSON copy, as a store read gives). Not without waitForLatest: a runner paused past its
      // lease would not know yet that another silo has written newer documents.
      const held = this.#localRunner(id)?.committedDocument(key);
      if (held !== undefined) return JSON.parse(JSON.stringify(held)) as unknown;
    }
    return this.#store.getDocument(id, key);
  }

  async count(name: string, version: number, options: QueryOptions, timeoutMs: number): Promise<number> {
    const id = await this.#readId(name, version, options, timeoutMs, "count");
    return this.#store.countDocuments(id);
  }

  async list(
    name: string,
    version: number,
    options: ListOptions<unknown>,
    timeoutMs: number,
  ): Promise<QueryPage<JsonValue>> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
    }
    const id = await this.#readId(name, version, options, timeoutMs, "list");
    const where = options.where;
    let after = options.after;
    const items: { key: string; document: JsonValue }[] = [];
    for (;;) {
      const page = await this.#store.listDocuments(id, {
        limit,
        ...(after === undefined ? {} : { after }),
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      });
      for (const item of page.items) {
        if (where && !where(item.document, item.key)) continue;
        items.push(item);
        if (items.length === limit) {
          const more = item.key !== page.items.at(-1)?.key || page.next !== undefined;
          return { items, next: more ? item.key : undefined };
        }
      }
      if (page.next === undefined) return { items, next: undefined };
      after = page.next;
    }
  }

  /** The store id to read, after waiting for the latest when asked. */
  async #readId(
    name: string,
    version: number,
    options: QueryOptions,
    timeoutMs: number,
    method: string,
  ): Promise<string> {
    const checkpoints = await this.#checkpointsCached(false);
    const newest = Math.max(version, ...versionsOf(name, checkpoints).map(([v]) => v));
    if (options.waitForLatest) {
      const id = projectionId(name, newest);
      const head = await this.#store.headPosition();
      const deadline = Date.now() + (options.timeoutMs ?? timeoutMs);
      if (!(await this.#waitFor(id, head, deadline))) {
        throw new CallTimeoutError(`projection ${name}`, method, options.timeoutMs ?? timeoutMs);
      }
      return id;
    }
    const ready = versionsOf(name, checkpoints)
      .filter(([, checkpoint]) => checkpoint.ready)
      .map(([v]) => v);
    return projectionId(name, ready.length > 0 ? Math.max(...ready) : newest);
  }

  async #waitFor(id: string, position: number, deadline: number): Promise<boolean> {
    let pause = 5;
    for (;;) {
      const runner = this.#localRunner(id);
      if (runner) {
        if (await runner.waitFor(position, deadline)) return true;
      } else if (((await this.#store.checkpoint(id))?.position ?? 0) >= position) {
        return true;
      }
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
      pause = Math.min(pause * 2, 100);
    }
  }

  #checkpointsCached(fresh: boolean): Promise<Map<string, Checkpoint>> {
    const cached = this.#checkpoints;
    if (!fresh && cached && Date.now() - cached.at < VERSION_CACHE_MS) return cached.value;
    const value = this.#store.checkpoints();
    this.#checkpoints = { at: Date.now(), value };
    value.catch(() => {
      if (this.#checkpoints?.value === value) this.#checkpoints = undefined;
    });
    return value;
  }
}

function versionsOf(name: string, checkpoints: Map<string, Checkpoint>): [number, Checkpoint][] {
  const prefix = `${name}@v`;
  const out: [number, Checkpoint][] = [];
  for (const [id, checkpoint] of checkpoints) {
    if (!id.startsWith(prefix)) continue;
    const version = Number(id.slice(prefix.length));
    if (Number.isSafeInteger(version)) out.push([version, checkpoint]);
  }
  return out;
}
