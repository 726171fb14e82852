import { createHash } from "node:crypto";
import {
  ErrorCode,
  type EventEnvelope,
  type EventStore,
  isGranaryError,
  type RecordedEvent,
  type Tombstone,
} from "@granary/core";

/**
 * How every projection hears of a purge, wherever it runs: the silo that purged a stream appends a
 * notice to the store's global feed, so each runner meets it in feed order (after every event it
 * read of the stream) and applies `onPurge` in the same commit as the checkpoint that passes it.
 * A projection whose silo was down, or that moves, resumes from its checkpoint and meets the
 * notice then: nothing depends on which silos were up when the stream was purged.
 *
 * One notice stream per purged stream (named by a digest, so any stream name fits), one event,
 * with an id derived from the stream: announcing a purge again (a purge retried after the silo
 * failed between tombstone and notice) writes nothing new.
 */
export const PURGE_NOTICE_ACTOR_TYPE = "$granary.purged";
export const PURGE_NOTICE_EVENT_TYPE = "StreamPurged";

export function purgeNoticeStream(stream: string): string {
  return `${PURGE_NOTICE_ACTOR_TYPE}/${digest(stream)}`;
}

/** The stream a feed event announces as purged, or undefined when it is not a purge notice. */
export function purgedStreamOf(event: RecordedEvent): string | undefined {
  if (event.type !== PURGE_NOTICE_EVENT_TYPE || !event.stream.startsWith(`${PURGE_NOTICE_ACTOR_TYPE}/`)) {
    return undefined;
  }
  const stream = event.data.stream;
  return typeof stream === "string" ? stream : undefined;
}

/** Appends the notice of `tombstone` (once per stream); returns its feed position. */
export async function announcePurge(store: EventStore, tombstone: Tombstone): Promise<number> {
  const stream = purgeNoticeStream(tombstone.stream);
  const id = `purged-${digest(tombstone.stream)}`;
  const notice: EventEnvelope = {
    id,
    type: PURGE_NOTICE_EVENT_TYPE,
    stream,
    version: 1,
    schemaVersion: 1,
    data: { stream: tombstone.stream },
    // Fixed, so a re-sent notice is the same write (idempotent) rather than a conflict.
    metadata: { correlationId: id, causationId: id, commandId: id },
    timestamp: tombstone.purgedAt,
  };
  try {
    return (await store.append(stream, 0, [notice])).position;
  } catch (error) {
    if (!isGranaryError(error, ErrorCode.VersionConflict)) throw error;
    const [existing] = await store.read(stream, 1, { limit: 1 });
    if (!existing) throw error;
    return existing.position;
  }
}

function digest(stream: string): string {
  return createHash("sha256").update(stream).digest("hex");
}
