import { InvalidArgumentError } from "../errors.js";
import type { DomainEvent, RecordedEvent } from "../events/envelope.js";

/**
 * An event as a projection sees it: the stored envelope (id, stream, version, position, metadata,
 * timestamp) whose `type` and `data` are typed from the actor's event union.
 */
export type ProjectedEvent<E extends DomainEvent = DomainEvent> = E extends DomainEvent
  ? Omit<RecordedEvent, "type" | "data"> & { readonly type: E["type"]; readonly data: Omit<E, "type"> }
  : never;

/** The documents of a projection during `onPurge`: read, replace or delete what a purged stream left. */
export interface PurgeDocuments<Doc> {
  get(key: string): Promise<Doc | undefined>;
  set(key: string, document: Doc): void;
  delete(key: string): void;
}

/** How a failing handler is retried before its projection stops. */
export interface ProjectionRetry {
  /** Attempts per batch, the first included. @default 5 */
  readonly attempts?: number;
  /** Delay before the first retry; doubles each time. @default 100 (ms) */
  readonly initialDelayMs?: number;
  /** @default 5_000 (ms) */
  readonly maxDelayMs?: number;
}

/** What every projection class declares (static members). */
export interface ProjectionStatics {
  /** Stable name: with `version`, the projection's identity in the store. */
  readonly projection: string;
  /** Bump after changing the fold: the new version is rebuilt from position 0 side by side. @default 1 */
  readonly version?: number;
  /** Event types this projection reads; others are skipped (but still advance its checkpoint). */
  readonly events: readonly string[];
  /** Only events of these actor types (the stream's `<type>/` prefix). @default all */
  readonly actorTypes?: readonly string[];
  readonly retry?: ProjectionRetry;
}

/**
 * A read model of JSON documents: each event is routed to zero, one or several keys and folded into
 * the document of each key. Granary stores the documents and the checkpoint in one transaction, so
 * every event affects a document exactly once, across crashes and restarts. Queries: `silo.query(Cls)`.
 *
 * @example
 * class SkuStats extends DocumentProjection<{ added: number; removed: number }, CartEvent> {
 *   static readonly projection = "sku-stats";
 *   static readonly version = 1;
 *   static readonly events = ["ItemAdded", "ItemRemoved"];
 *   key(event: ProjectedEvent<CartEvent>) { return "sku" in event.data ? event.data.sku : undefined; }
 *   initialDocument() { return { added: 0, removed: 0 }; }
 *   apply(doc: { added: number; removed: number }, event: ProjectedEvent<CartEvent>) {
 *     return event.type === "ItemAdded" ? { ...doc, added: doc.added + 1 } : { ...doc, removed: doc.removed + 1 };
 *   }
 * }
 */
export abstract class DocumentProjection<Doc, E extends DomainEvent = DomainEvent> {
  /** Type-level brand: lets `silo.query(Cls)` infer the document type. */
  declare readonly __document: Doc;
  declare readonly __event: E;

  /** The key(s) of the documents this event changes; `undefined` or `[]` skips it. */
  abstract key(event: ProjectedEvent<E>): string | readonly string[] | undefined;
  /** The document of a key before its first event. */
  abstract initialDocument(key: string): Doc;
  /** Pure fold: the document after `event`. Must not mutate `document` or have side effects. */
  abstract apply(document: Doc, event: ProjectedEvent<E>, key: string): Doc;
  /**
   * A stream was purged (right to be forgotten): drop or correct what the projection derived from
   * it. Changes are committed atomically with the checkpoint. @default nothing
   */
  onPurge?(stream: string, documents: PurgeDocuments<Doc>): void | Promise<void>;
}

/** Context of one handled event. */
export interface HandlerContext {
  /** The event's global feed position: a stable idempotency key for the side effect. */
  readonly position: number;
  /**
   * Only for `static transactional = true`: the store's transaction (SQLite: better-sqlite3
   * Database, synchronous writes only; PostgreSQL: pg PoolClient) in which the checkpoint is
   * written, for the handler's own tables.
   */
  readonly transaction: unknown;
}

/**
 * A projection for side effects you own (send an email, write another system): `handle` is called
 * for each event at least once, in feed order; the checkpoint moves after it returns. A handler that
 * keeps failing is retried with backoff, then the projection stops with its error visible.
 *
 * @example
 * class Mailer extends HandlerProjection<CartEvent> {
 *   static readonly projection = "checkout-mails";
 *   static readonly events = ["CheckedOut"];
 *   async handle(event: ProjectedEvent<CartEvent>, { position }: HandlerContext) { await mail.send(position, event); }
 * }
 */
export abstract class HandlerProjection<E extends DomainEvent = DomainEvent> {
  declare readonly __event: E;
  abstract handle(event: ProjectedEvent<E>, context: HandlerContext): void | Promise<void>;
  onPurge?(stream: string): void | Promise<void>;
}

export type DocumentProjectionClass<P extends DocumentProjection<unknown> = DocumentProjection<unknown>> =
  (new () => P) & ProjectionStatics;
export type HandlerProjectionClass = (new () => HandlerProjection) &
  ProjectionStatics & {
    /** Run `handle` inside the checkpoint's transaction (SQLite, PostgreSQL). @default false */
    readonly transactional?: boolean;
  };
// biome-ignore lint/suspicious/noExplicitAny: any projection class, whatever its document type
export type ProjectionClass = DocumentProjectionClass<DocumentProjection<any, any>> | HandlerProjectionClass;

/** The document type of a document projection class. */
export type DocumentOf<C> = C extends new () => DocumentProjection<infer Doc, infer _E> ? Doc : never;

export const ProjectionKind = { Document: "document", Handler: "handler" } as const;
export type ProjectionKind = (typeof ProjectionKind)[keyof typeof ProjectionKind];

/** A projection class, validated: what the runtime works with. */
export interface ProjectionInfo {
  readonly cls: ProjectionClass;
  readonly kind: ProjectionKind;
  readonly name: string;
  readonly version: number;
  /** `<name>@v<version>`: the key of its documents and checkpoint in the store. */
  readonly id: string;
  readonly events: ReadonlySet<string>;
  readonly actorTypes: ReadonlySet<string> | undefined;
  readonly transactional: boolean;
  readonly retry: Required<ProjectionRetry>;
}

export const DEFAULT_PROJECTION_RETRY: Required<ProjectionRetry> = {
  attempts: 5,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The store key of a projection version. */
export function projectionId(name: string, version: number): string {
  return `${name}@v${version}`;
}

/**
 * Validates a projection class and returns what the runtime needs.
 * @throws InvalidArgumentError naming the class and the member to fix
 */
export function projectionInfo(cls: unknown): ProjectionInfo {
  if (typeof cls !== "function") {
    throw new InvalidArgumentError(`a projection must be a class extending DocumentProjection or HandlerProjection`);
  }
  const statics = cls as unknown as ProjectionStatics & { transactional?: unknown; name: string };
  const label = statics.name || "anonymous class";
  const proto = (cls as { prototype: unknown }).prototype;
  const kind =
    proto instanceof DocumentProjection
      ? ProjectionKind.Document
      : proto instanceof HandlerProjection
        ? ProjectionKind.Handler
        : undefined;
  if (!kind) throw new InvalidArgumentError(`${label} must extend DocumentProjection or HandlerProjection`);
  if (typeof statics.projection !== "string" || !NAME.test(statics.projection)) {
    throw new InvalidArgumentError(
      `${label} needs \`static readonly projection = "a-stable-name"\` (letters, digits, _ . : -; got ${JSON.stringify(statics.projection)})`,
    );
  }
  const version = statics.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidArgumentError(`${label}.version must be an integer >= 1, got ${JSON.stringify(version)}`);
  }
  const events = statics.events;
  if (!Array.isArray(events) || events.length === 0 || !events.every((e) => typeof e === "string" && e !== "")) {
    throw new InvalidArgumentError(
      `${label} needs \`static readonly events = ["EventType", ...]\`: the event types it reads`,
    );
  }
  const actorTypes = statics.actorTypes;
  if (actorTypes !== undefined && (!Array.isArray(actorTypes) || !actorTypes.every((t) => typeof t === "string"))) {
    throw new InvalidArgumentError(`${label}.actorTypes must be an array of actor type names`);
  }
  const retry = { ...DEFAULT_PROJECTION_RETRY, ...(statics.retry ?? {}) };
  if (!Number.isSafeInteger(retry.attempts) || retry.attempts < 1) {
    throw new InvalidArgumentError(`${label}.retry.attempts must be an integer >= 1, got ${retry.attempts}`);
  }
  return {
    cls: cls as ProjectionClass,
    kind,
    name: statics.projection,
    version,
    id: projectionId(statics.projection, version),
    events: new Set(events),
    actorTypes: actorTypes ? new Set(actorTypes) : undefined,
    transactional: statics.transactional === true,
    retry,
  };
}

/** The actor type of a stream name (`<type>/<id>`). */
export function actorTypeOfStream(stream: string): string {
  const slash = stream.indexOf("/");
  return slash < 0 ? stream : stream.slice(0, slash);
}

/** Whether a projection reads this event. */
export function projectionReads(info: ProjectionInfo, event: RecordedEvent): boolean {
  if (!info.events.has(event.type)) return false;
  return info.actorTypes === undefined || info.actorTypes.has(actorTypeOfStream(event.stream));
}
