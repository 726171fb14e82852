import type { EventStore, RecordedEvent } from "@granary/core";
import { eventually } from "@granary/testing";
import { expect } from "vitest";

/**
 * Reads a store's feed two ways while a test writes to it: a subscriber, and a pager calling
 * readAll as fast as it can, to hit every window between two commits. After the writes,
 * `stopPaging()` and then `expectExactly(all)`.
 */
export function readFeedWhileWriting(store: EventStore, options: { batchSize: number; pageSize: number }) {
  const seen: RecordedEvent[] = [];
  const subscription = store.subscribe({
    fromPosition: 0,
    batchSize: options.batchSize,
    onEvent: (e) => void seen.push(e),
  });
  const paged: RecordedEvent[] = [];
  let writing = true;
  const pager = (async () => {
    for (let position = 0; writing; ) {
      const page = await store.readAll(position, options.pageSize);
      paged.push(...page);
      position = page.at(-1)?.position ?? position;
    }
  })();
  return {
    /** What the subscriber received so far. */
    seen,
    async stopPaging(): Promise<void> {
      writing = false;
      await pager;
    },
    /**
     * Waits for the subscriber to catch up with `all` (the whole feed, read after the writes) and
     * closes it; then the subscriber must have seen exactly `all`, and the pager a prefix of it:
     * no event skipped, none twice, none out of order.
     */
    async expectExactly(all: readonly RecordedEvent[]): Promise<void> {
      await eventually(() => seen.length >= all.length, "the subscriber caught up");
      await subscription.close();
      expect(seen).toEqual(all);
      expect(paged.map((e) => e.position)).toEqual(all.slice(0, paged.length).map((e) => e.position));
    },
  };
}
