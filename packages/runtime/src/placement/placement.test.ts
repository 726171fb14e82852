import { describe, expect, it } from "vitest";
import { hashPlacement, randomPlacement, resolvePlacement } from "./placement.js";

const live = ["s1", "s2", "s3"];

describe("placement", () => {
  it("random placement keeps calls from an actor on the calling silo", () => {
    for (let i = 0; i < 50; i++)
      expect(randomPlacement.place({ actorKey: `A/${i}`, self: "s2", fromActor: true, live })).toBe("s2");
  });

  it("random placement spreads client calls over every live silo", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_000; i++) {
      const silo = randomPlacement.place({ actorKey: `A/${i}`, self: "s1", fromActor: false, live });
      counts.set(silo, (counts.get(silo) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(live);
    for (const count of counts.values()) expect(count).toBeGreaterThan(700);
  });

  it("hash placement is the same from every silo and moves only the removed silo's actors", () => {
    const before = new Map<string, string>();
    for (let i = 0; i < 1_000; i++) {
      const key = `A/${i}`;
      const fromS1 = hashPlacement.place({ actorKey: key, self: "s1", fromActor: false, live });
      expect(hashPlacement.place({ actorKey: key, self: "s3", fromActor: true, live })).toBe(fromS1);
      before.set(key, fromS1);
    }
    const shares = [...before.values()].filter((s) => s === "s2").length;
    expect(shares).toBeGreaterThan(250);
    for (const [key, silo] of before) {
      const after = hashPlacement.place({ actorKey: key, self: "s1", fromActor: false, live: ["s1", "s3"] });
      if (silo !== "s2") expect(after).toBe(silo);
    }
  });

  it("an unknown placement name fails naming the option", () => {
    expect(() => resolvePlacement("nearest" as never)).toThrow(/`placement`/);
  });
});
