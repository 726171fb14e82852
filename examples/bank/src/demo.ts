/**
 * The bank demo on the embedded default: no servers, events in SQLite under ./.granary/demo.
 * Opens accounts, moves money, shows a rejected withdrawal, prints a history with its metadata,
 * then restarts the silo and shows the same state rebuilt from the store.
 *
 * Run: pnpm demo
 */
import { rmSync } from "node:fs";
import { Silo } from "@granary/runtime";
import { pino } from "pino";
import { Account, bankActors, bankErrors, Transfer } from "./index.js";

const dataDir = process.env.GRANARY_DATA_DIR ?? "./.granary/demo";
// The demo starts from an empty store each run so its output is the same every time.
rmSync(dataDir, { recursive: true, force: true });
const logger = pino({ level: process.env.GRANARY_LOG_LEVEL ?? "warn" });
const euros = (cents: number): string => `€${(cents / 100).toFixed(2)}`;

async function firstRun(): Promise<void> {
  const silo = await Silo.start({ actors: bankActors, errors: bankErrors, dataDir, logger });
  const alice = silo.get(Account, "alice", { userId: "teller-7" });
  const bob = silo.get(Account, "bob", { userId: "teller-7" });
  await alice.open("Alice");
  await bob.open("Bob");
  await alice.deposit(100_00);
  await bob.deposit(20_00);

  const transfer = await silo.get(Transfer, "tr-1", { userId: "alice" }).execute("alice", "bob", 35_00);
  console.log(`transfer tr-1: ${transfer.status} (${euros(transfer.amount)} alice → bob)`);
  const rejected = await silo.get(Transfer, "tr-2", { userId: "bob" }).execute("bob", "alice", 500_00);
  console.log(`transfer tr-2: ${rejected.status}: ${rejected.reason}`);

  try {
    await bob.withdraw(1_000_00);
  } catch (error) {
    const e = error as Error & { code: string };
    console.log(`bob.withdraw(€1000.00) → ${e.name} [${e.code}]: ${e.message}`);
  }

  console.log(`balances: alice ${euros(await alice.balance())}, bob ${euros(await bob.balance())}`);
  console.log("alice's history:");
  for (const entry of await alice.history()) {
    console.log(
      `  v${entry.version} ${entry.type.padEnd(15)} ${JSON.stringify(entry.data).padEnd(48)} by ${entry.userId ?? "-"} at ${entry.at} (correlation ${entry.correlationId})`,
    );
  }
  await silo.stop();
}

async function secondRun(): Promise<void> {
  console.log("\nsilo restarted: state rebuilt from the store");
  const silo = await Silo.start({ actors: bankActors, errors: bankErrors, dataDir, logger });
  const alice = silo.get(Account, "alice");
  const bob = silo.get(Account, "bob");
  console.log(`balances: alice ${euros(await alice.balance())}, bob ${euros(await bob.balance())}`);
  console.log(
    `alice has ${(await alice.history()).length} events; transfer tr-1 is ${(await silo.get(Transfer, "tr-1").status()).status}`,
  );
  await silo.stop();
}

await firstRun();
await secondRun();
