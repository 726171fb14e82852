import { describe, expect, it } from "vitest";
import type { RecordedEvent } from "../events/envelope.js";
import { ChangeSignal, startFeedSubscription } from "./feed-subscription.js";

function event(position: number): RecordedEvent {
  return { position } as RecordedEvent;
}

describe("feed subscription", () => {
  it("calls onBatchEnd after the events of each non-empty read, before the next read", async () => {
    // Given a feed read in batches of 2 over 5 events, then one appended later
    const feed = [1, 2, 3, 4, 5].map(event);
    const changed = new ChangeSignal();
    const seen: string[] = [];
    const subscription = startFeedSubscription(
      {
        readAll: async (from, limit) => feed.filter((e) => e.position > from).slice(0, limit),
        changeGeneration: () => changed.generation,
        waitForChange: (signal, maxWaitMs, since) => changed.wait(signal, maxWaitMs, since),
      },
      {
        fromPosition: 0,
        batchSize: 2,
        onEvent: (e) => {
          seen.push(String(e.position));
        },
        onBatchEnd: async () => {
          seen.push("end");
        },
      },
    );
    await expect.poll(() => seen.length).toBe(8);
    feed.push(event(6));
    changed.fire();
    await expect.poll(() => seen.length).toBe(10);
    await subscription.close();
    // Then each read's events are followed by one onBatchEnd, and empty reads call none
    expect(seen).toEqual(["1", "2", "end", "3", "4", "end", "5", "end", "6", "end"]);
  });
});
