import { describe, expect, it } from "vitest";
import { OwnerCache } from "./owner-cache.js";

describe("OwnerCache", () => {
  it("owner cache - remembers the last owner learned for an actor", () => {
    const cache = new OwnerCache(10);

    cache.set("A/1", "h:1");
    cache.set("A/1", "h:2");

    expect(cache.get("A/1")).toBe("h:2");
    expect(cache.get("A/2")).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it("owner cache - full, it drops the least recently used entry, never one that is hit all along", () => {
    const cache = new OwnerCache(4);
    cache.set("hot", "h:1");

    // Given a stream of new actors, with the hot one called between every two of them
    for (let i = 0; i < 100; i++) {
      cache.set(`cold-${i}`, "h:2");
      expect(cache.get("hot"), `after cold-${i}`).toBe("h:1");
    }

    // Then the cache stayed bounded and kept the hot entry and the newest cold ones
    expect(cache.size).toBe(4);
    expect(cache.get("cold-99")).toBe("h:2");
    expect(cache.get("cold-0")).toBeUndefined();
  });

  it("owner cache - forgets every actor of a silo that left", () => {
    const cache = new OwnerCache(10);
    cache.set("A/1", "h:1");
    cache.set("A/2", "h:2");
    cache.set("A/3", "h:1");
    cache.delete("A/2");

    cache.retainOwners((owner) => owner !== "h:1");

    expect([cache.get("A/1"), cache.get("A/2"), cache.get("A/3")]).toEqual([undefined, undefined, undefined]);
    expect(cache.size).toBe(0);
  });

  it("owner cache - capacity 0 keeps nothing", () => {
    const cache = new OwnerCache(0);
    cache.set("A/1", "h:1");
    expect(cache.get("A/1")).toBeUndefined();
  });
});
