import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Account } from "../__fixtures__/actors.js";
import { Silo } from "../silo/silo.js";

const silent = pino({ level: "silent" });
const HOUR = 3_600_000;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("standalone epochs", () => {
  it("a restart with the clock stepped back an hour still writes to existing streams (epochs grow from the store)", async () => {
    // Given a standalone silo on SQLite that wrote to a stream with clock-based epochs
    const dataDir = mkdtempSync(join(tmpdir(), "granary-epochs-"));
    dirs.push(dataDir);
    const before = await Silo.start({
      actors: [Account],
      dataDir,
      clock: new ManualClock(1_800_000_000_000),
      logger: silent,
    });
    await before.get(Account, "acc-1").deposit(5);
    await before.stop();

    // When it restarts with the clock an hour behind (an NTP step, a restored VM)
    const after = await Silo.start({
      actors: [Account],
      dataDir,
      clock: new ManualClock(1_800_000_000_000 - HOUR),
      logger: silent,
    });
    try {
      // Then the existing stream is not fenced: the new activation's epoch is above the stored one
      expect(await after.get(Account, "acc-1").deposit(7)).toBe(12);
      expect(await after.get(Account, "acc-1").deposit(1)).toBe(13);
    } finally {
      await after.stop();
    }

    // And a third run, clock still behind, keeps growing from what the store has seen
    const third = await Silo.start({
      actors: [Account],
      dataDir,
      clock: new ManualClock(1_800_000_000_000 - 2 * HOUR),
      logger: silent,
    });
    try {
      expect(await third.get(Account, "acc-1").deposit(1)).toBe(14);
    } finally {
      await third.stop();
    }
  });
});
