import type { AppendResult } from "@granary/core";

/** One append as the event store hands it to the appender. */
export interface AppendRequest {
  readonly stream: string;
  readonly expectedVersion: number;
  readonly epoch: number | undefined;
  readonly ids: readonly string[];
  /** The events as the jsonb array `append` takes. */
  readonly payload: string;
}

/** An append waiting in the group-commit queue. */
export interface QueuedAppend extends AppendRequest {
  readonly chars: number;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** One row of `append_many`'s answer (append-many-function.ts). */
export interface AppendManyRow {
  readonly version: string | null;
  readonly position: string | null;
  readonly duplicate: boolean;
  /** The SQLSTATE `append` would have raised, or null when the append was accepted or a re-send. */
  readonly rejected: string | null;
  readonly detail: string | null;
}

/** Stable order by stream name (Array#sort is stable, so appends to one stream keep their call order). */
export const byStream = (a: QueuedAppend, b: QueuedAppend): number =>
  a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0;

/**
 * Errors of the batch statement itself that roll back the batch and leave the server and
 * connection usable: data exceptions (22), integrity violations (23), deadlock or serialization
 * failures (40). Anything else (connection lost, server shutting down) fails the whole batch.
 */
export function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^(22|23|40)/.test(code);
}

/**
 * The column-wise arguments of append_many (after the namespace) for a batch sorted by stream: per
 * append stream, expected version, epoch, event count and whether it must run on its own in batch
 * order (its stream, or one of its event ids, occurs in another append of the batch); per event
 * the events as one jsonb array, and each one's append, version and id.
 */
export function appendManyArguments(batch: readonly QueuedAppend[]): unknown[] {
  const streams: string[] = [];
  const expected: number[] = [];
  const epochs: (number | null)[] = [];
  const counts: number[] = [];
  const sequential: boolean[] = [];
  const owners: number[] = [];
  const versions: number[] = [];
  const ids: string[] = [];
  const idOwner = new Map<string, number>();
  let events = "[";
  for (const [i, job] of batch.entries()) {
    streams.push(job.stream);
    expected.push(job.expectedVersion);
    epochs.push(job.epoch ?? null);
    counts.push(job.ids.length);
    // Sorted by stream: repeats are neighbours.
    const repeated = i > 0 && batch[i - 1]?.stream === job.stream;
    sequential.push(repeated);
    if (repeated) sequential[i - 1] = true;
    for (const [k, id] of job.ids.entries()) {
      owners.push(i + 1);
      versions.push(job.expectedVersion + k + 1);
      ids.push(id);
      const other = idOwner.get(id);
      if (other === undefined) idOwner.set(id, i);
      else if (other !== i) {
        sequential[other] = true;
        sequential[i] = true;
      }
    }
    if (i > 0) events += ",";
    events += job.payload.slice(1, -1);
  }
  events += "]";
  return [streams, expected, epochs, counts, sequential, events, owners, versions, ids];
}
