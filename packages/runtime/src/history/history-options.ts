import { InvalidArgumentError, type PointInTime } from "@granary/core";
import type { CorrelatedQuery, HistoryQuery } from "./history-types.js";

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 10_000;

/** A history query with every bound explicit: versions as numbers, times as epoch ms. */
export interface ResolvedHistoryQuery {
  readonly fromVersion: number;
  readonly toVersion: number | undefined;
  readonly fromMs: number | undefined;
  readonly toMs: number | undefined;
  readonly limit: number;
}

/** @throws InvalidArgumentError naming the option and what it must be */
export function resolveHistoryQuery(query: HistoryQuery | undefined): ResolvedHistoryQuery {
  if (query !== undefined && (typeof query !== "object" || query === null)) {
    throw new InvalidArgumentError(`history options must be an object like { fromVersion, limit }, got ${show(query)}`);
  }
  const q = query ?? {};
  for (const key of Object.keys(q)) {
    if (!["fromVersion", "toVersion", "from", "to", "limit"].includes(key)) {
      throw new InvalidArgumentError(
        `unknown history option \`${key}\`: use fromVersion, toVersion, from, to or limit`,
      );
    }
  }
  const fromVersion = integerOption("fromVersion", q.fromVersion, 1) ?? 1;
  const toVersion = integerOption("toVersion", q.toVersion, 0);
  if (toVersion !== undefined && toVersion < fromVersion) {
    throw new InvalidArgumentError(
      `history option \`toVersion\` (${toVersion}) is below \`fromVersion\` (${fromVersion})`,
    );
  }
  const limit = integerOption("limit", q.limit, 1) ?? DEFAULT_HISTORY_LIMIT;
  if (limit > MAX_HISTORY_LIMIT) {
    throw new InvalidArgumentError(
      `history option \`limit\` must be at most ${MAX_HISTORY_LIMIT}, got ${limit}: page with \`next\` instead`,
    );
  }
  const fromMs = timeOption("from", q.from);
  const toMs = timeOption("to", q.to);
  if (fromMs !== undefined && toMs !== undefined && toMs < fromMs) {
    throw new InvalidArgumentError("history option `to` is earlier than `from`");
  }
  return { fromVersion, toVersion, fromMs, toMs, limit };
}

/** The query that reads the page after `lastVersion`, in the caller's own terms. */
export function nextQuery(query: ResolvedHistoryQuery, lastVersion: number): HistoryQuery {
  return {
    fromVersion: lastVersion + 1,
    ...(query.toVersion === undefined ? {} : { toVersion: query.toVersion }),
    ...(query.fromMs === undefined ? {} : { from: new Date(query.fromMs).toISOString() }),
    ...(query.toMs === undefined ? {} : { to: new Date(query.toMs).toISOString() }),
    limit: query.limit,
  };
}

/** @throws InvalidArgumentError naming the option */
export function resolveCorrelatedQuery(
  correlationId: unknown,
  query: CorrelatedQuery | undefined,
): { correlationId: string; afterPosition: number; limit: number } {
  if (typeof correlationId !== "string" || correlationId === "") {
    throw new InvalidArgumentError(`correlated(correlationId) needs a non-empty string, got ${show(correlationId)}`);
  }
  if (query !== undefined && (typeof query !== "object" || query === null)) {
    throw new InvalidArgumentError(
      `correlated options must be an object like { afterPosition, limit }, got ${show(query)}`,
    );
  }
  for (const key of Object.keys(query ?? {})) {
    if (key !== "afterPosition" && key !== "limit") {
      throw new InvalidArgumentError(`unknown correlated option \`${key}\`: use afterPosition or limit`);
    }
  }
  const afterPosition = integerOption("afterPosition", query?.afterPosition, 0) ?? 0;
  const limit = integerOption("limit", query?.limit, 1) ?? DEFAULT_HISTORY_LIMIT;
  if (limit > MAX_HISTORY_LIMIT) {
    throw new InvalidArgumentError(`correlated option \`limit\` must be at most ${MAX_HISTORY_LIMIT}, got ${limit}`);
  }
  return { correlationId, afterPosition, limit };
}

export type ResolvedPoint = { readonly version: number } | { readonly timeMs: number };

/** @throws InvalidArgumentError unless `point` is `{ version }` or `{ time }` */
export function resolvePointInTime(point: PointInTime | undefined, what: string): ResolvedPoint {
  if (typeof point !== "object" || point === null) {
    throw new InvalidArgumentError(`${what} needs { version: n } or { time: isoStringOrDate }, got ${show(point)}`);
  }
  const hasVersion = "version" in point && point.version !== undefined;
  const hasTime = "time" in point && point.time !== undefined;
  if (hasVersion === hasTime) {
    throw new InvalidArgumentError(
      `${what} needs exactly one of { version: n } or { time: isoStringOrDate }, got ${show(point)}`,
    );
  }
  if (hasVersion) return { version: integerOption(`${what}.version`, (point as { version: number }).version, 0) ?? 0 };
  return { timeMs: timeOption(`${what}.time`, (point as { time: string | Date }).time) ?? 0 };
}

/** A wire-safe copy of a point (a Date becomes its ISO string). */
export function pointToWire(point: PointInTime): PointInTime {
  if ("time" in point && point.time instanceof Date) return { time: point.time.toISOString() };
  return point;
}

function integerOption(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`\`${name}\` must be an integer >= ${min}, got ${show(value)}`);
  }
  return value;
}

function timeOption(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new InvalidArgumentError(
      `\`${name}\` must be an ISO 8601 time (e.g. "2026-03-03T00:00:00Z") or a valid Date, got ${show(value)}`,
    );
  }
  return ms;
}

function show(value: unknown): string {
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
