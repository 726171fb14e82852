import {
  CorruptHistoryError,
  type EventSourcedActor,
  InvalidArgumentError,
  PastStateReadOnlyError,
  type PointInTime,
  type RecordedEvent,
  StreamPurgedError,
  streamOf,
  UnknownMethodError,
} from "@granary/core";
import { bindHost, eventSourcing } from "@granary/core/internal";
import type { ActivationServices } from "../activation/activation-services.js";
import type { ActorTypeInfo, ActorTypeRegistry } from "../activation/actor-type-info.js";
import { rehydrate, upcast } from "../activation/rehydration.js";
import { readCorrelated } from "./correlated-read.js";
import {
  nextQuery,
  type ResolvedPoint,
  resolveCorrelatedQuery,
  resolveHistoryQuery,
  resolvePointInTime,
} from "./history-options.js";
import type { CorrelatedPage, CorrelatedQuery, HistoryPage, HistoryQuery, PastState } from "./history-types.js";
import { PastHost } from "./past-host.js";

type Services = Pick<ActivationServices, "store" | "snapshots" | "logger" | "freezeState">;
type EsInstance = EventSourcedActor<unknown, { type: string }>;

/**
 * History and time travel on one silo, by actor type name (so the client's requests land here too):
 * pages of recorded events, the state at a past version or time rebuilt in an instance of its own
 * (never the live activation), and read-only calls against such a past state.
 */
export class HistoryService {
  constructor(
    readonly registry: ActorTypeRegistry,
    readonly services: Services,
  ) {}

  async history(actorType: string, actorId: string, query: HistoryQuery | undefined): Promise<HistoryPage> {
    const info = this.#eventSourced(actorType, "history");
    const q = resolveHistoryQuery(query);
    const stream = streamOf(info.type, checkId(actorId));
    const latest = await this.#latest(stream);
    let from = q.fromVersion;
    let to = Math.min(q.toVersion ?? latest, latest);
    if (q.fromMs !== undefined) from = Math.max(from, (await this.#lastVersionBefore(stream, latest, q.fromMs)) + 1);
    if (q.toMs !== undefined) to = Math.min(to, await this.#lastVersionBefore(stream, latest, q.toMs + 1));
    if (from > to) return { events: [] };
    const read = await this.services.store.read(stream, from, { limit: Math.min(q.limit, to - from + 1) });
    const events: RecordedEvent[] = [];
    for (const stored of read) {
      if (stored.version > to) break;
      const at = Date.parse(stored.timestamp);
      if ((q.fromMs !== undefined && at < q.fromMs) || (q.toMs !== undefined && at > q.toMs)) continue;
      events.push(upcast(info, stored, stream));
    }
    const last = read.at(-1)?.version ?? to;
    const page = { events } as unknown as HistoryPage;
    return last < to && read.length > 0 ? { ...page, next: nextQuery(q, last) } : page;
  }

  /** Every event of one correlation across all streams, in commit order (what one request changed). */
  async correlated(correlationId: string, query: CorrelatedQuery | undefined): Promise<CorrelatedPage> {
    const q = resolveCorrelatedQuery(correlationId, query);
    const events = await readCorrelated(this.services.store, q.correlationId, {
      afterPosition: q.afterPosition,
      limit: q.limit,
    });
    const last = events.at(-1);
    return events.length === q.limit && last
      ? { events, next: { afterPosition: last.position, limit: q.limit } }
      : { events };
  }

  async stateAt(actorType: string, actorId: string, point: PointInTime): Promise<PastState<unknown>> {
    const info = this.#eventSourced(actorType, "stateAt");
    const resolved = resolvePointInTime(point, "stateAt");
    const { instance, version, timestamp } = await this.#rebuild(info, checkId(actorId), resolved);
    return { state: instance[eventSourcing].state, version, timestamp };
  }

  /** Runs a `readOnly` method against the state at `point`; any other method is refused. */
  async pastCall(
    actorType: string,
    actorId: string,
    point: PointInTime,
    method: string,
    args: readonly unknown[],
  ): Promise<unknown> {
    const info = this.#eventSourced(actorType, "a reference with asOf");
    if (!info.methods.has(method)) throw new UnknownMethodError(info.type, method);
    if (!info.readOnly.has(method)) throw new PastStateReadOnlyError(info.type, method);
    const resolved = resolvePointInTime(point, "asOf");
    const { instance } = await this.#rebuild(info, checkId(actorId), resolved);
    const fn = (instance as unknown as Record<string, (...a: unknown[]) => unknown>)[method] as (
      ...a: unknown[]
    ) => unknown;
    return await fn.apply(instance, args as unknown[]);
  }

  async #rebuild(
    info: ActorTypeInfo,
    actorId: string,
    point: ResolvedPoint,
  ): Promise<{ instance: EsInstance; version: number; timestamp: string | null }> {
    const stream = streamOf(info.type, actorId);
    const latest = await this.#latest(stream);
    const target = "version" in point ? point.version : await this.#lastVersionBefore(stream, latest, point.timeMs + 1);
    if (target > latest) {
      throw new InvalidArgumentError(
        `${stream} has ${latest} event(s), so there is no state at version ${target}; ask for a version from 0 to ${latest}`,
        { stream, version: target, latestVersion: latest },
      );
    }
    const instance = new info.cls() as EsInstance;
    instance[bindHost](
      new PastHost(info.type, actorId, stream, this.services.store, this.services.freezeState, target),
    );
    await rehydrate(info, instance, stream, this.services, target);
    const version = instance[eventSourcing].version;
    if (version !== target) {
      throw new CorruptHistoryError(
        stream,
        version + 1,
        `the store returned no event ${version + 1} below version ${latest}`,
      );
    }
    const timestamp = target === 0 ? null : await this.#timestampOf(stream, target);
    return { instance, version, timestamp };
  }

  /** The stream's latest version; StreamPurgedError for a purged stream (its past is gone too). */
  async #latest(stream: string): Promise<number> {
    const tombstone = await this.services.store.tombstone(stream);
    if (tombstone) throw new StreamPurgedError(stream, tombstone.purgedAt, tombstone.reason);
    return this.services.store.latestVersion(stream);
  }

  /**
   * The highest version whose event was raised before `beforeMs` (0 when none): a binary search
   * over point reads, relying on timestamps growing with versions.
   */
  async #lastVersionBefore(stream: string, latest: number, beforeMs: number): Promise<number> {
    let lo = 0;
    let hi = latest;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const at = Date.parse(await this.#timestampOf(stream, mid));
      if (at < beforeMs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async #timestampOf(stream: string, version: number): Promise<string> {
    const [event] = await this.services.store.read(stream, version, { limit: 1 });
    if (!event || event.version !== version) {
      throw new CorruptHistoryError(stream, version, "the store has no event at a version below its latest");
    }
    return event.timestamp;
  }

  #eventSourced(actorType: string, what: string): ActorTypeInfo {
    const info = this.registry.get(actorType);
    if (!info.eventSourced) {
      throw new InvalidArgumentError(
        `${what} needs an event-sourced actor, and ${info.type} keeps volatile state (it extends Actor, not EventSourcedActor): it has no history`,
      );
    }
    return info;
  }
}

function checkId(id: unknown): string {
  if (typeof id !== "string" || id === "") {
    throw new InvalidArgumentError(`an actor id must be a non-empty string, got ${JSON.stringify(id)}`);
  }
  return id;
}
