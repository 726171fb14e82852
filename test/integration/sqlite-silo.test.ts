import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Silo } from "@granary/runtime";
import { SqliteEventStore } from "@granary/sqlite";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Account, bankActors, bankErrors, Transfer } from "../../examples/bank/src/index.js";

const logger = pino({ level: "silent" });
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "granary-silo-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("a standalone silo on the embedded SQLite default", () => {
  it("state survives a restart: rebuilt from the SQLite file with the same history", async () => {
    const first = await Silo.start({ actors: bankActors, errors: bankErrors, dataDir, logger });
    await first.get(Account, "a").open("A");
    await first.get(Account, "b").open("B");
    await first.get(Account, "a").deposit(500);
    await first.get(Transfer, "t").execute("a", "b", 200);
    const before = await first.get(Account, "a").history();
    await first.stop();

    const second = await Silo.start({ actors: bankActors, errors: bankErrors, dataDir, logger });
    expect(await second.get(Account, "a").balance()).toBe(300);
    expect(await second.get(Account, "b").balance()).toBe(200);
    expect(await second.get(Account, "a").history()).toEqual(before);
    await second.stop();

    // The file is a plain SQLite database with the events in it, durable and readable by any tool.
    const store = new SqliteEventStore({ path: join(dataDir, "granary.db") });
    expect((await store.read("Account/a")).map((e) => e.type)).toEqual([
      "AccountOpened",
      "MoneyDeposited",
      "MoneyWithdrawn",
    ]);
    await store.close();
  });

  it("the README's demo runs end to end and shows the same state after its restart", async () => {
    const demo = fileURLToPath(new URL("../../examples/bank/dist/demo.js", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [demo], {
      env: { ...process.env, GRANARY_DATA_DIR: join(dataDir, "demo") },
      timeout: 60_000,
    });
    expect(stdout).toContain("transfer tr-1: completed");
    expect(stdout).toContain("InsufficientFunds [INSUFFICIENT_FUNDS]");
    const balances = stdout.split("\n").filter((line) => line.startsWith("balances:"));
    expect(balances).toHaveLength(2);
    expect(balances[0]).toBe(balances[1]);
    expect(stdout).toMatch(/v1 AccountOpened .* by teller-7/);
  });
});
