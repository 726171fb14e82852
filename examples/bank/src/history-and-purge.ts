/**
 * History, time travel, the audit chain and purge on the bank example, on the embedded default
 * (SQLite under ./.granary/history-demo, no servers). Every API in the README's "History and time
 * travel" and "Forgetting personal data" sections, run end to end.
 *
 * Run: pnpm build && node examples/bank/dist/history-and-purge.js
 */
import { rmSync } from "node:fs";
import { Silo } from "@granary/runtime";
import { pino } from "pino";
import { Account, bankActors, bankErrors, Transfer } from "./index.js";

const dataDir = process.env.GRANARY_DATA_DIR ?? "./.granary/history-demo";
rmSync(dataDir, { recursive: true, force: true });
const logger = pino({ level: process.env.GRANARY_LOG_LEVEL ?? "warn" });

async function main(): Promise<void> {
  const silo = await Silo.start({ actors: bankActors, errors: bankErrors, dataDir, logger });
  try {
    const alice = silo.get(Account, "alice", { userId: "teller-7", metadata: { reason: "branch visit" } });
    await alice.open("Alice");
    await alice.deposit(100_00);
    await alice.withdraw(30_00);
    await silo.get(Account, "bob").open("Bob");

    // History: recorded events with their metadata, a page at a time.
    const page = await silo.history(Account, "alice", { limit: 2 });
    for (const event of page.events) {
      console.log(`v${event.version} ${event.type} by ${event.metadata.userId} in ${event.metadata.method}()`);
    }
    const rest = await silo.history(Account, "alice", page.next);
    console.log(`next page: ${rest.events.map((e) => `v${e.version} ${e.type}`).join(", ")}`);

    // State at a past version (or time), rebuilt apart from the live activation.
    const past = await silo.stateAt(Account, "alice", { version: 2 });
    console.log(`alice at v${past.version} (${past.timestamp}): balance ${past.state.balance}`);

    // Ask the past: readOnly methods of a reference bound to a point answer from the state then.
    const then = silo.get(Account, "alice", { asOf: { version: 2 } });
    console.log(`alice.balance() as of v2: ${await then.balance()}, now: ${await alice.balance()}`);
    await (then as unknown as Account)
      .withdraw(1)
      .catch((e: { code: string }) => console.log(`as-of write → ${e.code}`));

    // Audit chain: one request's changes across streams, with the caller's reason on every event.
    await silo
      .get(Transfer, "tr-1", { correlationId: "req-1", userId: "alice", metadata: { reason: "rent" } })
      .execute("alice", "bob", 10_00);
    const changed = await silo.correlated("req-1");
    for (const e of changed.events) {
      console.log(`req-1 changed ${e.stream} v${e.version} ${e.type} (${String(e.metadata.callMetadata?.reason)})`);
    }

    // Forgetting: deactivated without snapshot, events and snapshots erased, an audited tombstone.
    const tombstone = await silo.purge(Account, "bob", { reason: "GDPR erasure #42", requestedBy: "dpo@bank.example" });
    console.log(`purged ${tombstone.stream} (${tombstone.lastVersion} events) at ${tombstone.purgedAt}`);
    await silo
      .get(Account, "bob")
      .balance()
      .catch((e: { code: string }) => console.log(`bob.balance() → ${e.code}`));
  } finally {
    await silo.stop();
  }
}

await main();
