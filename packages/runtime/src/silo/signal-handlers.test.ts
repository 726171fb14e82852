import { MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { Counter } from "../__fixtures__/actors.js";
import { Silo } from "./silo.js";

describe("signal handling", () => {
  it("silos of one process share one SIGTERM and one SIGINT listener, removed when the last stops", async () => {
    // A fresh module graph: the signal handlers' module keeps its silos in module state, and test
    // files share a worker's modules (a silo another file left running would share the listener).
    vi.resetModules();
    const { Silo } = await import("./silo.js");
    const { Counter } = await import("../__fixtures__/actors.js");
    const { MemoryEventStore, MemorySnapshotStore } = await import("@granary/core");
    const before = { term: process.listenerCount("SIGTERM"), int: process.listenerCount("SIGINT") };
    const silos = await Promise.all(
      Array.from({ length: 12 }, () =>
        Silo.start({
          actors: [Counter],
          store: new MemoryEventStore(),
          snapshots: new MemorySnapshotStore(),
          logger: pino({ level: "silent" }),
        }),
      ),
    );
    expect(process.listenerCount("SIGTERM")).toBe(before.term + 1);
    expect(process.listenerCount("SIGINT")).toBe(before.int + 1);
    await Promise.all(silos.slice(1).map((s) => s.stop()));
    expect(process.listenerCount("SIGTERM")).toBe(before.term + 1);
    await silos[0]?.stop();
    expect(process.listenerCount("SIGTERM")).toBe(before.term);
    expect(process.listenerCount("SIGINT")).toBe(before.int);
  });

  it("handleSignals: false installs nothing", async () => {
    const before = process.listenerCount("SIGTERM");
    const silo = await Silo.start({
      actors: [Counter],
      store: new MemoryEventStore(),
      snapshots: new MemorySnapshotStore(),
      logger: pino({ level: "silent" }),
      handleSignals: false,
    });
    expect(process.listenerCount("SIGTERM")).toBe(before);
    await silo.stop();
  });
});
