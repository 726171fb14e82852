import {
  type Clock,
  type Directory,
  type DocumentOf,
  type DocumentProjectionClass,
  type EventStore,
  InvalidArgumentError,
  InvalidConfigurationError,
  type ProjectionClass,
  type ProjectionInfo,
  ProjectionKind,
  type ProjectionStore,
  projectionInfo,
  providesProjectionStore,
  UnknownMethodError,
} from "@granary/core";
import type { Logger } from "pino";
import type { CallRequest } from "../calls/call-context.js";
import { StandaloneDirectory } from "../directory/standalone-directory.js";
import { EventBus } from "../events-bus/event-bus.js";
import { GatewaySubscriptions, type OpenRequest } from "../events-bus/gateway-subscriptions.js";
import { ProjectionCoordinator } from "./projection-coordinator.js";
import type { ProjectionStatus } from "./projection-progress.js";
import { type ListOptions, type ProjectionQuery, QueryEngine, type QueryOptions } from "./projection-queries.js";
import { announcePurge } from "./purge-notice.js";
import { type ReadSideSettings, registerLagGauge } from "./read-side-settings.js";
import { EVENTS_ACTOR_TYPE, QUERY_ACTOR_TYPE } from "./system-calls.js";

const OWNER_KEY_PREFIX = "$granary.projection/";

/**
 * Epochs for a standalone silo's projections: above the epoch its checkpoint was last written
 * with, so a restart (even with the clock set back) is never fenced by its own earlier run.
 */
function standaloneDirectory(store: ProjectionStore): Directory {
  return new StandaloneDirectory({
    highestEpoch: async (key: string) => (await store.checkpoint(key.slice(OWNER_KEY_PREFIX.length)))?.epoch ?? 0,
  });
}

export interface ReadSideOptions {
  readonly projections: readonly ProjectionClass[];
  readonly events: EventStore;
  /** Given by the application; otherwise opened beside `events`. */
  readonly projectionStore: ProjectionStore | undefined;
  /** The cluster's directory; undefined for a standalone silo. */
  readonly directory: Directory | undefined;
  readonly siloId: () => string;
  readonly canRun: () => boolean;
  readonly clustered: boolean;
  readonly logger: Logger;
  readonly callTimeoutMs: number;
  readonly settings: ReadSideSettings;
  /** Projection ownership checks run on it. */
  readonly clock: Clock;
}

/** What `silo.projections` offers: progress and control of the projections. */
export interface ProjectionsControl {
  /** Every registered projection: state, position/head, rate, ETA, error. */
  status(): Promise<ProjectionStatus[]>;
  /** Starts a failed projection again from its checkpoint (after fixing what made it fail). */
  restart(name: string): Promise<void>;
  /**
   * Tells every projection, on whichever silo it runs, that `stream` was purged (their `onPurge`),
   * for a stream purged with `store.purge` rather than `silo.purge` (which does this itself).
   * Resolves when the projections running on this silo have applied it; the others apply it as
   * they reach it in the feed (a query with `waitForLatest` waits for that).
   * @throws InvalidArgumentError when the stream has no tombstone
   */
  purged(stream: string): Promise<void>;
}

/**
 * The silo's read side: projections (run where the directory says), queries, the event bus and
 * the gateway end of client queries and subscriptions.
 */
export class ReadSide implements ProjectionsControl {
  readonly bus: EventBus | undefined;
  readonly #store: ProjectionStore | undefined;
  readonly #ownsStore: boolean;
  readonly #infos: ReadonlyMap<string, ProjectionInfo>;
  readonly #coordinator: ProjectionCoordinator | undefined;
  readonly #queries: QueryEngine | undefined;
  readonly #gateway: GatewaySubscriptions | undefined;
  readonly #callTimeoutMs: number;
  readonly #unregisterGauge: () => void;
  readonly #events: EventStore;

  /** @throws InvalidArgumentError for an invalid projection class, InvalidConfigurationError without a store */
  constructor(options: ReadSideOptions) {
    const infos = validateProjections(options.projections);
    this.#infos = new Map(infos.map((info) => [info.name, info]));
    this.#callTimeoutMs = options.callTimeoutMs;
    this.#events = options.events;
    let store = options.projectionStore;
    this.#ownsStore = !store && providesProjectionStore(options.events);
    if (!store && providesProjectionStore(options.events)) store = options.events.openProjectionStore();
    if (!store && infos.length > 0) {
      throw new InvalidConfigurationError(
        "projectionStore",
        "the event store offers no projection store (openProjectionStore); pass `projectionStore` to run projections",
      );
    }
    this.#store = store;
    const logger = options.logger.child({ component: "read-side" });
    if (store) {
      this.#coordinator =
        infos.length > 0
          ? new ProjectionCoordinator({
              infos,
              events: options.events,
              store,
              directory: options.directory ?? standaloneDirectory(store),
              siloId: options.siloId,
              canRun: options.canRun,
              clustered: options.clustered,
              checkIntervalMs: options.settings.ownershipCheckMs,
              dropAfterMs: options.settings.dropAfterMs,
              clock: options.clock,
              logger,
              runner: options.settings.runner,
            })
          : undefined;
      this.#queries = new QueryEngine(store, (id) => this.#coordinator?.runner(id));
      this.bus = new EventBus(options.events, () => store.headPosition(), store.namespace, logger);
      this.#gateway = new GatewaySubscriptions(this.bus);
    }
    this.#unregisterGauge = registerLagGauge(() => this.#coordinator?.localStatuses() ?? []);
  }

  async start(): Promise<void> {
    await this.#coordinator?.start();
  }

  /** Typed queries of a document projection (it need not run on this silo, only share its store). */
  query<C extends DocumentProjectionClass>(cls: C): ProjectionQuery<DocumentOf<C>> {
    const info = projectionInfo(cls);
    if (info.kind !== ProjectionKind.Document) {
      throw new InvalidArgumentError(`${info.name} is a handler projection: only document projections have queries`);
    }
    const queries = this.#requireQueries();
    const timeout = (options: QueryOptions | undefined) => options?.timeoutMs ?? this.#callTimeoutMs;
    return {
      get: (key, options = {}) =>
        queries.get(info.name, info.version, key, options, timeout(options)) as Promise<DocumentOf<C> | undefined>,
      list: (options = {}) =>
        queries.list(info.name, info.version, options as ListOptions<unknown>, timeout(options)) as ReturnType<
          ProjectionQuery<DocumentOf<C>>["list"]
        >,
      count: (options = {}) => queries.count(info.name, info.version, options, timeout(options)),
    };
  }

  status(): Promise<ProjectionStatus[]> {
    return this.#coordinator?.status() ?? Promise.resolve([]);
  }

  async restart(name: string): Promise<void> {
    if (!this.#infos.has(name)) throw new InvalidArgumentError(`no projection named "${name}" runs on this silo`);
    await this.#coordinator?.restart(name);
  }

  async purged(stream: string): Promise<void> {
    const tombstone = await this.#events.tombstone(stream);
    if (!tombstone) throw new InvalidArgumentError(`${stream} is not purged: purge it first (silo.purge does both)`);
    await this.applied(await announcePurge(this.#events, tombstone), this.#callTimeoutMs);
  }

  /**
   * Resolves once the projections running on this silo have processed the feed up to `position`
   * (a purge notice: its purge is then applied here), or after `timeoutMs`; never rejects.
   */
  async applied(position: number, timeoutMs: number): Promise<void> {
    const coordinator = this.#coordinator;
    if (!coordinator) return;
    const deadline = Date.now() + timeoutMs;
    await Promise.all(coordinator.infos.map((info) => coordinator.runner(info.id)?.waitFor(position, deadline)));
  }

  /** Answers a client's read-side request (see system-calls.ts). */
  answer(request: CallRequest): Promise<unknown> {
    if (request.actorType === QUERY_ACTOR_TYPE) return this.#answerQuery(request);
    if (request.actorType === EVENTS_ACTOR_TYPE) return this.#answerEvents(request);
    return Promise.reject(new UnknownMethodError(request.actorType, request.method));
  }

  async #answerQuery(request: CallRequest): Promise<unknown> {
    const queries = this.#requireQueries();
    const name = request.actorId;
    const [version, first, second] = request.args as [number, unknown, unknown];
    if (!Number.isSafeInteger(version)) throw new InvalidArgumentError("query: version must be an integer");
    const timeoutMs = request.timeoutMs;
    switch (request.method) {
      case "get":
        return queries.get(name, version, first as string, (second ?? {}) as QueryOptions, timeoutMs);
      case "list": {
        const { where: _ignored, ...options } = (first ?? {}) as ListOptions<unknown>;
        return queries.list(name, version, options, timeoutMs);
      }
      case "count":
        return queries.count(name, version, (first ?? {}) as QueryOptions, timeoutMs);
      default:
        throw new UnknownMethodError(QUERY_ACTOR_TYPE, request.method);
    }
  }

  async #answerEvents(request: CallRequest): Promise<unknown> {
    const gateway = this.#gateway;
    if (!gateway) throw this.#noStore();
    const [first, second] = request.args as [unknown, unknown];
    switch (request.method) {
      case "open":
        return gateway.open(first as OpenRequest);
      case "poll":
        return gateway.poll(first as string, Math.min(Number(second) || 0, request.timeoutMs - 1_000));
      case "close":
        return gateway.close(first as string);
      default:
        throw new UnknownMethodError(EVENTS_ACTOR_TYPE, request.method);
    }
  }

  /** The silo lost its lease: projections stop at once. */
  fence(): Promise<void> {
    return this.#coordinator?.fence() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#unregisterGauge();
    await this.#gateway?.closeAll();
    await this.bus?.close();
    await this.#coordinator?.stop();
    if (this.#ownsStore) await this.#store?.close();
  }

  #requireQueries(): QueryEngine {
    if (!this.#queries) throw this.#noStore();
    return this.#queries;
  }

  #noStore(): InvalidConfigurationError {
    return new InvalidConfigurationError(
      "projectionStore",
      "the event store offers no projection store (openProjectionStore); pass `projectionStore` for queries and the event bus",
    );
  }
}

/** @throws InvalidArgumentError, InvalidConfigurationError */
export function validateProjections(classes: readonly ProjectionClass[]): ProjectionInfo[] {
  if (!Array.isArray(classes)) {
    throw new InvalidConfigurationError("projections", "give an array of projection classes, e.g. [SkuStats]");
  }
  const infos = classes.map((cls) => projectionInfo(cls));
  const names = new Set<string>();
  for (const info of infos) {
    if (names.has(info.name)) {
      throw new InvalidConfigurationError(
        "projections",
        `two projections are named "${info.name}"; names must be unique (bump \`version\` to rebuild, do not register both)`,
      );
    }
    names.add(info.name);
  }
  return infos;
}
