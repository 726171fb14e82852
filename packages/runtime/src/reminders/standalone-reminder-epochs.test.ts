import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EventSourcedActor,
  ManualClock,
  MemoryEventStore,
  MemoryReminderStore,
  MemorySnapshotStore,
} from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Silo } from "../silo/silo.js";
import type { SiloOptions } from "../silo/silo-options.js";

const silent = pino({ level: "silent" });
const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const dirs: string[] = [];
const running: Silo[] = [];

class Alarm extends EventSourcedActor<{ rung: number }, { type: "Rung" }> {
  static readonly type = "Alarm";
  static rung = 0;

  initialState() {
    return { rung: 0 };
  }
  apply(state: { rung: number }) {
    return { rung: state.rung + 1 };
  }
  async set(inMs: number): Promise<void> {
    await this.remind("ring", { inMs });
  }
  override async onReminder(): Promise<void> {
    Alarm.rung++;
    this.raise({ type: "Rung" });
  }
}

/** Moves the clock in poll-sized steps, letting each poll's async work run. */
async function advance(clock: ManualClock, ms: number, step = 250): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((silo) => silo.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  Alarm.rung = 0;
});

type Storage = Pick<SiloOptions, "store" | "snapshots" | "reminders" | "dataDir">;

const storages: [string, () => Storage][] = [
  [
    "SQLite data dir",
    () => {
      const dataDir = mkdtempSync(join(tmpdir(), "granary-reminder-epochs-"));
      dirs.push(dataDir);
      return { dataDir };
    },
  ],
  [
    "memory stores",
    () => ({
      store: new MemoryEventStore(),
      snapshots: new MemorySnapshotStore(),
      reminders: new MemoryReminderStore(),
    }),
  ],
];

describe.each(storages)("standalone reminder epochs (%s)", (_name, storage) => {
  it("a restart with the clock stepped back an hour still fires reminders promptly (partition epochs grow from the reminder store)", async () => {
    // Given a standalone silo whose reminder partitions were claimed with clock-based epochs
    const stores = storage();
    const start = async (clock: ManualClock): Promise<Silo> => {
      const silo = await Silo.start({
        actors: [Alarm],
        ...stores,
        clock,
        logger: silent,
        reminderService: { pollIntervalMs: 500 },
      });
      running.push(silo);
      return silo;
    };
    const clock = new ManualClock(T0);
    const before = await start(clock);
    await before.get(Alarm, "a1").set(2_000);
    await advance(clock, 3_000);
    await vi.waitFor(() => expect(Alarm.rung).toBe(1));
    await before.stop();

    // When it restarts with the clock an hour behind (an NTP step, a restored VM) and a reminder is set
    const behind = new ManualClock(T0 - HOUR);
    const after = await start(behind);
    await after.get(Alarm, "a1").set(2_000);
    await advance(behind, 3_000);

    // Then the reminder fires when due, not an hour later when the clock has caught up
    await vi.waitFor(() => expect(Alarm.rung).toBe(2));
    await after.stop();

    // And a third run, the clock further behind, keeps growing from what the store has seen
    const further = new ManualClock(T0 - 2 * HOUR);
    const third = await start(further);
    await third.get(Alarm, "a1").set(2_000);
    await advance(further, 3_000);
    await vi.waitFor(() => expect(Alarm.rung).toBe(3));
  });
});
