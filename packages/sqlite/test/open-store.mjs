// Opens (and so migrates) the store on the given file, appends one event, and exits.
// Several run at once in the multi-process migration test (sqlite-processes.test.ts).
import { randomUUID } from "node:crypto";
import { SqliteEventStore } from "../dist/index.js";

const [path, name] = process.argv.slice(2);
const store = new SqliteEventStore({ path });
const stream = `Opener/${name}`;
await store.append(stream, 0, [
  {
    id: randomUUID(),
    type: "Opened",
    stream,
    version: 1,
    schemaVersion: 1,
    data: { name },
    metadata: { correlationId: "c", causationId: "c", commandId: "c" },
    timestamp: new Date().toISOString(),
  },
]);
await store.close();
process.stdout.write("done\n");
