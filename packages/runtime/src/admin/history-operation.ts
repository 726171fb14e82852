import { type EventStore, InvalidArgumentError, type RecordedEvent, streamOf } from "@granary/core";
import { intArg, type OperatorRequests, stringArg } from "./operator-requests.js";

/** One page of an actor's recorded events, oldest first; `next` is the version to read from for more. */
export interface OperatorHistoryPage {
  readonly events: readonly RecordedEvent[];
  readonly next: number | null;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const SCAN_BATCH = 1_000;

/** An optional ISO 8601 time argument, normalized to the stored timestamp form. */
function timeArg(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  const time = typeof value === "string" ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) {
    throw new InvalidArgumentError(
      `"${name}" must be an ISO 8601 time such as 2026-03-03T12:00:00Z, got ${JSON.stringify(value)}`,
    );
  }
  return time.toISOString();
}

/**
 * Registers "history" over a bare store (the CLI on a data dir without actor classes): `{ type, id, fromVersion?, toVersion?, limit? }` → a {@link OperatorHistoryPage},
 * read straight from the store (no actor class needed, nothing activated).
 */
export function registerStoreHistoryOperation(requests: OperatorRequests, store: () => EventStore): void {
  requests.register("history", async (args) => {
    const stream = streamOf(stringArg(args, "type"), stringArg(args, "id"));
    const from = intArg(args, "fromVersion", 1, Number.MAX_SAFE_INTEGER) ?? 1;
    const to = intArg(args, "toVersion", 1, Number.MAX_SAFE_INTEGER);
    const limit = intArg(args, "limit", 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
    const fromTime = timeArg(args, "from");
    const toTime = timeArg(args, "to");
    const wanted = to === undefined ? limit : Math.min(limit, Math.max(0, to - from + 1));
    if (wanted === 0) return { events: [], next: null } satisfies OperatorHistoryPage;
    if (fromTime === undefined && toTime === undefined) {
      // One more than asked tells whether there is a next page.
      const events = await store().read(stream, from, { limit: wanted + 1 });
      const page = events.slice(0, wanted);
      const more = events.length > wanted && (to === undefined || (page.at(-1)?.version ?? to) < to);
      return { events: page, next: more ? (page.at(-1)?.version ?? from) + 1 : null } satisfies OperatorHistoryPage;
    }
    // A time window: scan in version order (timestamps grow with versions) and stop past `to`.
    const page: RecordedEvent[] = [];
    let cursor = from;
    for (;;) {
      const batch = await store().read(stream, cursor, { limit: SCAN_BATCH });
      for (const event of batch) {
        if ((to !== undefined && event.version > to) || (toTime !== undefined && event.timestamp > toTime)) {
          return { events: page, next: null } satisfies OperatorHistoryPage;
        }
        if (fromTime !== undefined && event.timestamp < fromTime) continue;
        if (page.length === wanted) return { events: page, next: event.version } satisfies OperatorHistoryPage;
        page.push(event);
      }
      if (batch.length < SCAN_BATCH) return { events: page, next: null } satisfies OperatorHistoryPage;
      cursor = (batch.at(-1)?.version ?? cursor) + 1;
    }
  });
}
