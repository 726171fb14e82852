// Appends to PostgreSQL in a loop until killed, for the crash-safety test.
// Usage: node crash-appender.mjs <connectionString> <namespace> <streams> <concurrency>
// Prints "ready" once, then "ack <stream> <version>" after every acknowledged append. Each event's
// data says which append it belongs to and how many events that append has, so the test can check
// that every append is stored whole or not at all.
import { randomUUID } from "node:crypto";
import { PostgresEventStore } from "@granary/postgres";

const [connectionString, namespace, streamCount, concurrency] = process.argv.slice(2);
const store = new PostgresEventStore({ connectionString, namespace, logger: { warn: () => {} } });
const versions = new Map();

async function appender(worker) {
  for (let round = 0; ; round++) {
    const stream = `crash/${(worker + round * Number(concurrency)) % Number(streamCount)}`;
    if (versions.get(stream) === "busy") continue;
    const known = versions.get(stream);
    versions.set(stream, "busy");
    let expected;
    try {
      expected = known ?? (await store.latestVersion(stream));
    } catch {
      versions.delete(stream);
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const size = 1 + (round % 5);
    const batch = randomUUID();
    const events = Array.from({ length: size }, (_, i) => ({
      id: randomUUID(),
      type: "Appended",
      stream,
      version: expected + i + 1,
      schemaVersion: 1,
      data: { batch, size, index: i, padding: "x".repeat(200 * (i + 1)) },
      metadata: { correlationId: batch, causationId: batch, commandId: batch },
      timestamp: new Date().toISOString(),
    }));
    try {
      const { version } = await store.append(stream, expected, events);
      versions.set(stream, version);
      process.stdout.write(`ack ${stream} ${version}\n`);
    } catch (error) {
      // The server went away (server-crash variant): the append may or may not have committed, so
      // the next round asks the store for the stream's version.
      versions.delete(stream);
      process.stderr.write(`append failed: ${error.message}\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

await store.latestVersion("warm-up");
process.stdout.write("ready\n");
await Promise.all(Array.from({ length: Number(concurrency) }, (_, worker) => appender(worker)));
