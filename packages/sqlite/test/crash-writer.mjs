// Appends in a loop to several streams until killed, printing one line per acknowledged append:
// "ack <stream> <lastVersion> <id,id,...>". Used by the crash test (sqlite-processes.test.ts).
import { randomUUID } from "node:crypto";
import { SqliteEventStore } from "../dist/index.js";

const [path, streamCount = "6"] = process.argv.slice(2);
const store = new SqliteEventStore({ path });
process.stdout.write("ready\n");

async function writeStream(s) {
  const stream = `Crash/${s}`;
  for (let version = 0, round = 0; ; round++) {
    // Batches of 1 to 3 events: an append is all-or-nothing even when cut by the kill.
    const size = 1 + (round % 3);
    const events = Array.from({ length: size }, (_, i) => ({
      id: randomUUID(),
      type: "Ticked",
      stream,
      version: version + i + 1,
      schemaVersion: 1,
      data: { s, round, pad: "x".repeat(200) },
      metadata: { correlationId: "crash", causationId: "crash", commandId: `${s}-${round}` },
      timestamp: new Date().toISOString(),
    }));
    await store.append(stream, version, events);
    version += size;
    process.stdout.write(`ack ${stream} ${version} ${events.map((e) => e.id).join(",")}\n`);
  }
}

await Promise.all(Array.from({ length: Number(streamCount) }, (_, s) => writeStream(s)));
