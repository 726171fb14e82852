import {
  ChangeSignal,
  type DocumentProjection,
  type EventStore,
  type HandlerProjection,
  isGranaryError,
  type JsonValue,
  messageOf,
  type ProjectedEvent,
  ProjectionFailedError,
  type ProjectionInfo,
  ProjectionKind,
  type ProjectionStore,
  type PurgeDocuments,
  projectionReads,
  type RecordedEvent,
  type Subscription,
} from "@granary/core";
import type { Logger } from "pino";
import { DocumentCache, foldBatch } from "./document-fold.js";
import { ProgressMeter, type ProjectionStatus } from "./projection-progress.js";
import { purgedStreamOf } from "./purge-notice.js";

export interface RunnerOptions {
  readonly info: ProjectionInfo;
  readonly events: EventStore;
  readonly store: ProjectionStore;
  /** Fencing epoch of this silo's ownership (from the directory). */
  readonly epoch: number;
  readonly logger: Logger;
  /** Events per catch-up read and most events per commit. */
  readonly batchSize: number;
  /** Documents kept in memory between batches. */
  readonly cacheSize: number;
  /** Check each document is plain JSON before it is written. */
  readonly checkDocuments: boolean;
  /** How often the head is looked up (lag, ready) while idle. */
  readonly headIntervalMs: number;
  /** Called once when the runner ends by itself (failed, fenced). */
  readonly onEnded?: (runner: ProjectionRunner) => void;
}

type State = ProjectionStatus["state"];

/** How far a handler projection got in a batch, so a retry does not repeat a side effect. */
interface Handled {
  count: number;
  purged: boolean;
}

/**
 * Runs one projection on this silo: loads its checkpoint, claims it with this silo's epoch (a
 * commit that fences any earlier owner at once), then follows the store's gap-safe feed from the
 * checkpoint. Events are buffered and committed in batches: the documents they change and the new
 * checkpoint in one store commit (exactly once), or for a handler projection, the handler is called
 * for each event and then the checkpoint moves (at least once). Commits are serialized on one chain.
 * A purge notice in the feed (purge-notice.ts) ends a batch: `onPurge` runs after the events
 * before it, and its document changes commit with the checkpoint at the notice's position.
 */
export class ProjectionRunner {
  readonly info: ProjectionInfo;
  readonly #options: RunnerOptions;
  readonly #instance: DocumentProjection<unknown> | HandlerProjection;
  readonly #cache: DocumentCache;
  readonly #meter = new ProgressMeter();
  /** Fires after every commit: queries waiting for a position wake on it. */
  readonly #committed = new ChangeSignal();
  #state: State = "starting";
  #checkpoint = 0;
  #ready = false;
  #head = 0;
  /** Feed position of the last event received (committed or still buffered). */
  #seen = 0;
  /** Feed position up to which events were handed to a commit (queued or done). */
  #flushedUpTo = 0;
  #pending: RecordedEvent[] = [];
  #flushScheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #subscription: Subscription | undefined;
  #headTimer: ReturnType<typeof setInterval> | undefined;
  #error: ProjectionStatus["error"];

  constructor(options: RunnerOptions) {
    this.#options = options;
    this.info = options.info;
    this.#instance = new (options.info.cls as new () => DocumentProjection<unknown> | HandlerProjection)();
    this.#cache = new DocumentCache(options.cacheSize);
  }

  get state(): State {
    return this.#state;
  }

  get position(): number {
    return this.#checkpoint;
  }

  get epoch(): number {
    return this.#options.epoch;
  }

  /** Loads and claims the checkpoint, then starts following the feed. */
  async start(): Promise<void> {
    const { store, epoch, info } = this.#options;
    const stored = await store.checkpoint(info.id);
    this.#checkpoint = stored?.position ?? 0;
    this.#seen = this.#checkpoint;
    this.#flushedUpTo = this.#checkpoint;
    this.#ready = stored?.ready ?? false;
    // The claim: same position, this epoch. From here on an earlier owner's commits are refused.
    const claimed = await this.#commitSafely({ expectedPosition: this.#checkpoint, position: this.#checkpoint, epoch });
    if (!claimed) return;
    this.#head = await store.headPosition();
    this.#meter.record(this.#checkpoint);
    this.#state = this.#ready && this.#checkpoint >= this.#head ? "live" : "catching-up";
    this.#subscription = this.#options.events.subscribe({
      fromPosition: this.#checkpoint,
      batchSize: this.#options.batchSize,
      onEvent: (event) => this.#onEvent(event),
      onCaughtUp: () => this.#onCaughtUp(),
      onError: (error) => this.#halt("failed", error),
    });
    this.#headTimer = setInterval(() => void this.#enqueue(() => this.#refreshHead()), this.#options.headIntervalMs);
    this.#headTimer.unref();
    void this.#enqueue(() => this.#refreshHead());
  }

  /** Stops following the feed and waits for the commit in progress. Idempotent. */
  async stop(state: "stopped" | "fenced" = "stopped"): Promise<void> {
    if (this.#state !== "failed" && this.#state !== "fenced") this.#state = state;
    if (this.#headTimer) clearInterval(this.#headTimer);
    const subscription = this.#subscription;
    this.#subscription = undefined;
    this.#pending = [];
    await subscription?.close();
    await this.#chain;
    this.#committed.fire();
  }

  /** True while it runs (not failed, fenced or stopped). */
  get running(): boolean {
    return this.#state === "starting" || this.#state === "catching-up" || this.#state === "live";
  }

  /**
   * Resolves true once everything up to `position` is committed, false at `deadline` (a
   * `Date.now()` time) or when the runner ends first.
   */
  async waitFor(position: number, deadline: number): Promise<boolean> {
    while (this.#checkpoint < position) {
      const left = deadline - Date.now();
      if (left <= 0 || !this.running) return false;
      // One timer per wait, bounded by the deadline: no AbortSignal (and its timer) per query.
      await this.#committed.wait(undefined, Math.min(left, 1_000), this.#committed.generation);
    }
    return true;
  }

  /**
   * The committed document of `key` when this runner holds it in memory (it wrote or read it), else
   * undefined. Exact as of {@link position} while the runner owns the projection: only the owner
   * writes its documents, and the memory is updated after each commit and dropped on a failed one.
   */
  committedDocument(key: string): JsonValue | undefined {
    return this.running ? this.#cache.get(key) : undefined;
  }

  status(): ProjectionStatus {
    const lag = Math.max(0, this.#head - this.#checkpoint);
    return {
      name: this.info.name,
      version: this.info.version,
      id: this.info.id,
      kind: this.info.kind,
      state: this.#state,
      position: this.#checkpoint,
      head: Math.max(this.#head, this.#checkpoint),
      lag,
      ratePerSecond: Math.round(this.#meter.rate()),
      etaMs: this.#state === "catching-up" ? this.#meter.eta(lag) : lag === 0 ? 0 : undefined,
      ready: this.#ready,
      epoch: this.#options.epoch,
      ...(this.#error ? { error: this.#error } : {}),
    };
  }

  #onEvent(event: RecordedEvent): void | Promise<void> {
    if (!this.running) return;
    this.#seen = event.position;
    if (projectionReads(this.info, event) || purgedStreamOf(event) !== undefined) this.#pending.push(event);
    if (this.#pending.length >= this.#options.batchSize) return this.#flush();
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After the rest of this read (and on SQLite, of the reads delivered in this turn) is
      // delivered: one commit per batch, not per event, while catching up.
      setImmediate(() => {
        this.#flushScheduled = false;
        if (this.#seen > this.#flushedUpTo) void this.#flush();
      });
    }
  }

  /** At the head of the feed: commit what is buffered now rather than a tick later (live lag). */
  #onCaughtUp(): void {
    if (this.running && this.#seen > this.#flushedUpTo) void this.#flush();
  }

  #flush(): Promise<void> {
    const upTo = this.#seen;
    const events = this.#pending;
    this.#pending = [];
    this.#flushedUpTo = upTo;
    let start = 0;
    for (let i = 0; i < events.length; i++) {
      const notice = events[i] as RecordedEvent;
      const purged = purgedStreamOf(notice);
      if (purged === undefined) continue;
      const before = events.slice(start, i);
      void this.#enqueue(() => this.#commitBatch(before, notice.position, purged));
      start = i + 1;
    }
    const rest = start === 0 ? events : events.slice(start);
    return this.#enqueue(() => this.#commitBatch(rest, upTo));
  }

  /** Runs `work` after everything queued before it; never rejects (a failure halts the runner). */
  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      if (!this.running) return;
      try {
        await work();
      } catch (error) {
        this.#halt("failed", error);
      }
    });
    return this.#chain;
  }

  /** Commits `events` and the checkpoint `upTo`; with `purged`, after `onPurge` of that stream. */
  async #commitBatch(events: readonly RecordedEvent[], upTo: number, purged?: string): Promise<void> {
    if (upTo <= this.#checkpoint && events.length === 0) return;
    const { retry } = this.info;
    // Handler projections: what of this batch is already handled, so a retry starts at the failed step.
    const handled: Handled = { count: 0, purged: false };
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.info.kind === ProjectionKind.Document) await this.#commitDocuments(events, upTo, purged);
        else await this.#commitHandled(events, upTo, handled, purged);
        return;
      } catch (error) {
        if (isOwnershipError(error)) {
          this.#halt("fenced", error);
          return;
        }
        this.#cache.clear();
        const position = events[handled.count]?.position ?? upTo;
        if (attempt >= retry.attempts) throw new ProjectionFailedError(this.info.name, position, error);
        const delay = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
        this.#options.logger.warn(
          { projection: this.info.id, position, attempt, retryInMs: delay, err: messageOf(error) },
          "projection batch failed; retrying",
        );
        await sleep(delay);
        if (!this.running) return;
      }
    }
  }

  async #commitDocuments(events: readonly RecordedEvent[], upTo: number, purged: string | undefined): Promise<void> {
    const { store, info } = this.#options;
    const changed: Map<string, JsonValue | null> =
      events.length === 0
        ? new Map<string, JsonValue | null>()
        : await foldBatch(
            this.#instance as DocumentProjection<unknown>,
            info.name,
            events,
            this.#cache,
            (keys) => store.getDocuments(info.id, keys),
            this.#options.checkDocuments,
          );
    if (purged !== undefined) await this.#onPurge(purged, changed);
    const ready = await this.#caughtUp(upTo);
    await store.commit(info.id, {
      expectedPosition: this.#checkpoint,
      position: upTo,
      epoch: this.#options.epoch,
      ready,
      documents: changed,
    });
    for (const [key, document] of changed) {
      if (document === null) this.#cache.delete(key);
      else this.#cache.set(key, document);
    }
    this.#advanced(upTo, ready);
  }

  /** Runs the document projection's `onPurge` over `changes` (the batch so far), adding its changes to them. */
  async #onPurge(stream: string, changes: Map<string, JsonValue | null>): Promise<void> {
    const { store, info } = this.#options;
    const instance = this.#instance as DocumentProjection<unknown>;
    if (!instance.onPurge) return;
    const documents: PurgeDocuments<unknown> = {
      get: async (key) => {
        if (changes.has(key)) return changes.get(key) ?? undefined;
        return this.#cache.get(key) ?? (await store.getDocument(info.id, key));
      },
      set: (key, document) => {
        changes.set(key, document as JsonValue);
      },
      delete: (key) => {
        changes.set(key, null);
      },
    };
    await instance.onPurge(stream, documents);
  }

  /** Calls the handler for the events not yet `handled` (then `onPurge`), then moves the checkpoint. */
  async #commitHandled(
    events: readonly RecordedEvent[],
    upTo: number,
    handled: Handled,
    purged: string | undefined,
  ): Promise<void> {
    const { store, info, epoch } = this.#options;
    const handler = this.#instance as HandlerProjection;
    for (; handled.count < events.length; handled.count++) {
      const event = events[handled.count] as RecordedEvent;
      const context = { position: event.position, transaction: undefined as unknown };
      if (info.transactional) {
        await store.commit(info.id, {
          expectedPosition: this.#checkpoint,
          position: event.position,
          epoch,
          transaction: (transaction) => handler.handle(event as unknown as ProjectedEvent, { ...context, transaction }),
        });
        this.#advanced(event.position, this.#ready);
      } else {
        await handler.handle(event as unknown as ProjectedEvent, context);
      }
    }
    if (purged !== undefined && !handled.purged) {
      await handler.onPurge?.(purged);
      handled.purged = true;
    }
    if (upTo > this.#checkpoint) {
      const ready = await this.#caughtUp(upTo);
      await store.commit(info.id, { expectedPosition: this.#checkpoint, position: upTo, epoch, ready });
      this.#advanced(upTo, ready);
    }
  }

  /** Whether committing `upTo` brings a not-yet-ready projection to the head (its rebuild is done). */
  async #caughtUp(upTo: number): Promise<boolean> {
    if (this.#ready) return true;
    if (this.#pending.length > 0 || upTo < this.#head) return false;
    this.#head = await this.#options.store.headPosition();
    return upTo >= this.#head;
  }

  #advanced(position: number, ready: boolean): void {
    this.#checkpoint = position;
    if (ready && !this.#ready) {
      this.#ready = true;
      this.#options.logger.info({ projection: this.info.id, position }, "projection caught up (ready)");
    }
    if (this.#ready && this.#state === "catching-up" && this.#pending.length === 0) this.#state = "live";
    this.#meter.record(position);
    this.#committed.fire();
  }

  async #refreshHead(): Promise<void> {
    const { store, info, epoch } = this.#options;
    this.#head = await store.headPosition();
    // Idle at the head but never marked ready (e.g. an empty feed): mark it now.
    if (
      !this.#ready &&
      this.#pending.length === 0 &&
      this.#seen === this.#checkpoint &&
      this.#checkpoint >= this.#head
    ) {
      await store.commit(info.id, {
        expectedPosition: this.#checkpoint,
        position: this.#checkpoint,
        epoch,
        ready: true,
      });
      this.#advanced(this.#checkpoint, true);
    }
  }

  /** A claim or commit that may find the projection taken over: false (and fenced) then. */
  async #commitSafely(commit: Parameters<ProjectionStore["commit"]>[1]): Promise<boolean> {
    try {
      await this.#options.store.commit(this.info.id, commit);
      return true;
    } catch (error) {
      if (!isOwnershipError(error)) throw error;
      this.#halt("fenced", error);
      return false;
    }
  }

  #halt(state: "failed" | "fenced", error: unknown): void {
    if (!this.running) return;
    this.#state = state;
    const position =
      isGranaryError(error) && typeof error.data.position === "number" ? error.data.position : this.#checkpoint;
    this.#error = {
      message: messageOf(error),
      ...(isGranaryError(error) ? { code: error.code } : {}),
      position,
    };
    const log = state === "failed" ? this.#options.logger.error : this.#options.logger.warn;
    log.call(
      this.#options.logger,
      { projection: this.info.id, position, err: messageOf(error) },
      `projection ${state}`,
    );
    if (this.#headTimer) clearInterval(this.#headTimer);
    const subscription = this.#subscription;
    this.#subscription = undefined;
    void subscription?.close();
    this.#committed.fire();
    this.#options.onEnded?.(this);
  }
}

function isOwnershipError(error: unknown): boolean {
  return isGranaryError(error, "PROJECTION_FENCED") || isGranaryError(error, "CHECKPOINT_CONFLICT");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}
