import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { eventually, type PostgresServer, startPostgresServer } from "@granary/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const appenderScript = fileURLToPath(new URL("../test-fixtures/crash-appender.mjs", import.meta.url));
const STREAMS = 40;
const CONCURRENCY = 8;

let server: PostgresServer;

beforeAll(async () => {
  // The child runs the built package, as a deployed silo would.
  execFileSync("npx", ["tsc", "-b", "packages/postgres"], { cwd: repoRoot, stdio: "pipe" });
  server = await startPostgresServer();
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

interface Appender {
  readonly child: ChildProcess;
  /** Highest acknowledged version per stream. */
  readonly acked: Map<string, number>;
  count(): number;
  exited: Promise<void>;
}

async function startAppender(namespace: string): Promise<Appender> {
  const child = spawn(process.execPath, [appenderScript, server.url, namespace, String(STREAMS), String(CONCURRENCY)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const acked = new Map<string, number>();
  let acks = 0;
  let ready = false;
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const [kind, stream, version] = line.split(" ");
    if (kind === "ready") ready = true;
    if (kind === "ack" && stream && version) {
      acked.set(stream, Math.max(acked.get(stream) ?? 0, Number(version)));
      acks++;
    }
  });
  await eventually(() => ready || child.exitCode !== null, "the appender started");
  if (!ready) throw new Error(`the appender exited: ${stderr}`);
  return { child, acked, count: () => acks, exited };
}

interface StoredEvent {
  stream: string;
  version: string;
  data: { batch: string; size: number; index: number };
}

/** Every stream is 1..n without gaps, every append is whole, and every acknowledged append is there. */
async function expectConsistent(namespace: string, acked: ReadonlyMap<string, number>): Promise<void> {
  const client = new pg.Client(server.url);
  await client.connect();
  try {
    const { rows: events } = await client.query<StoredEvent>(
      "SELECT stream, version, data FROM granary.events WHERE namespace = $1 ORDER BY stream, version",
      [namespace],
    );
    const { rows: streams } = await client.query<{ stream: string; version: string }>(
      "SELECT stream, version FROM granary.streams WHERE namespace = $1",
      [namespace],
    );
    const byStream = new Map<string, StoredEvent[]>();
    for (const e of events) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e]);

    for (const { stream, version } of streams) {
      const stored = byStream.get(stream) ?? [];
      expect(stored.map((e) => Number(e.version))).toEqual(stored.map((_, i) => i + 1));
      expect(stored).toHaveLength(Number(version));
    }
    const batches = new Map<string, StoredEvent[]>();
    for (const e of events) batches.set(e.data.batch, [...(batches.get(e.data.batch) ?? []), e]);
    for (const batch of batches.values()) {
      expect(batch.map((e) => e.data.index)).toEqual(Array.from({ length: batch[0]?.data.size ?? 0 }, (_, i) => i));
    }
    for (const [stream, version] of acked) {
      expect(byStream.get(stream)?.length ?? 0).toBeGreaterThanOrEqual(version);
    }
  } finally {
    await client.end();
  }
}

describe("crash safety", () => {
  it("crash - a writer SIGKILLed mid-append leaves every append whole or absent, and every acknowledged append stored", async () => {
    const appender = await startAppender("client-crash");
    await eventually(() => appender.count() >= 400, "the appender acknowledged 400 appends");

    appender.child.kill("SIGKILL");
    await appender.exited;

    expect(appender.acked.size).toBeGreaterThan(0);
    await expectConsistent("client-crash", appender.acked);
  });

  it("crash - PostgreSQL SIGKILLed under appends recovers with every acknowledged append and no partial one", async () => {
    const appender = await startAppender("server-crash");
    await eventually(() => appender.count() >= 400, "the appender acknowledged 400 appends");

    await server.kill();
    // Acknowledgements already on their way are counted; nothing after the crash can be acknowledged.
    appender.child.kill("SIGKILL");
    await appender.exited;
    await server.restart();

    await expectConsistent("server-crash", appender.acked);
  });
});
