import { describe, expect, it } from "vitest";
import type { RecordedEvent } from "../events/envelope.js";
import { ChangeSignal, startFeedSubscription } from "./feed-subscription.js";

function event(position: number): RecordedEvent {
  return { position } as RecordedEvent;
}

describe("feed subscription", () => {
  it("calls onCaughtUp once a read reaches the head after delivering events, not after full reads or idle ones", async () => {
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
        onCaughtUp: async () => {
          seen.push("end");
        },
      },
    );
    await expect.poll(() => seen.length).toBe(6);
    changed.fire();
    feed.push(event(6), event(7));
    changed.fire();
    await expect.poll(() => seen.length).toBe(9);
    await subscription.close();
    // Then it hears it is caught up after 5 (the short read) and after 6, 7 (a full read, then an
    // empty one), and not after the wake-up that found nothing
    expect(seen).toEqual(["1", "2", "3", "4", "5", "end", "6", "7", "end"]);
  });
});
