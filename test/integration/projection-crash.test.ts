import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EventStore, JsonValue, ProjectionStore } from "@granary/core";
import { PostgresEventStore } from "@granary/postgres";
import { SqliteEventStore } from "@granary/sqlite";
import { makeEvents, type PostgresServer, startPostgresServer } from "@granary/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const runner = fileURLToPath(new URL("../fixtures/projection-crash-runner.mjs", import.meta.url));
const STREAMS = 8;
const EVENTS_PER_APPEND = 5;

function startRunner(env: Record<string, string>): {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<unknown>;
} {
  const child = spawn(process.execPath, [runner], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...process.env, GRANARY_LOG_LEVEL: "silent", ...env },
  });
  const errors: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    void exited.then(() => reject(new Error(`projection runner exited before it was ready: ${errors.join("")}`)));
  });
  return { child, ready, exited };
}

/**
 * Appends in the background while the runner is killed (SIGKILL) at random moments and restarted,
 * then lets it catch up: every event must be in its stream's document exactly once, in order.
 */
async function crashLoop(events: EventStore, projections: ProjectionStore, env: Record<string, string>): Promise<void> {
  const versions = new Array<number>(STREAMS).fill(0);
  let appending = true;
  let appended = false;
  // Appends go on until the last kill (a cap bounds the catch-up on a fast machine).
  const appender = (async () => {
    for (let round = 0; appending && round < 1_500; round++) {
      const stream = round % STREAMS;
      const name = `Log/${stream}`;
      await events.append(
        name,
        versions[stream] as number,
        makeEvents(name, versions[stream] as number, EVENTS_PER_APPEND),
      );
      versions[stream] = (versions[stream] as number) + EVENTS_PER_APPEND;
      if (round % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })().finally(() => {
    appended = true;
  });
  for (let kill = 0; kill < 6; kill++) {
    const run = startRunner(env);
    await run.ready;
    const before = (await projections.checkpoint("stream-log@v1"))?.position ?? 0;
    // Let it commit at least once (unless the appender hit its cap and everything is already
    // projected), then kill it at a random moment.
    await vi.waitFor(
      async () => {
        const position = (await projections.checkpoint("stream-log@v1"))?.position ?? 0;
        if (appended && position === (await projections.headPosition())) return;
        expect(position).toBeGreaterThan(before);
      },
      {
        timeout: 20_000,
        interval: 5,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 40)));
    run.child.kill("SIGKILL");
    await run.exited;
  }
  appending = false;
  await appender;
  const last = startRunner(env);
  await last.ready;
  const head = await projections.headPosition();
  await vi.waitFor(async () => expect((await projections.checkpoint("stream-log@v1"))?.position).toBe(head), {
    timeout: 30_000,
    interval: 20,
  });
  last.child.kill("SIGTERM");
  await last.exited;

  const all = await events.readAll(0, 1_000_000);
  for (let stream = 0; stream < STREAMS; stream++) {
    const expected = all.filter((e) => e.stream === `Log/${stream}`).map((e) => e.position);
    const document = (await projections.getDocument("stream-log@v1", `Log/${stream}`)) as { positions: JsonValue[] };
    expect(document.positions, `stream Log/${stream}`).toEqual(expected);
  }
}

describe("document projection across kill -9 (each event counted exactly once)", () => {
  it("SQLite: runner killed repeatedly between document writes and checkpoints", { timeout: 180_000 }, async () => {
    const dir = join(tmpdir(), `granary-projection-crash-${randomUUID()}`);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "crash.db");
    const events = new SqliteEventStore({ path });
    const projections = events.openProjectionStore();
    try {
      await crashLoop(events, projections, { CRASH_STORE: "sqlite", CRASH_URL: path });
    } finally {
      await projections.close();
      await events.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("PostgreSQL", () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgresServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("runner killed repeatedly between document writes and checkpoints", { timeout: 180_000 }, async () => {
      const namespace = `crash-${randomUUID().slice(0, 8)}`;
      const events = new PostgresEventStore({ connectionString: server.url, namespace, logger: { warn: () => {} } });
      const projections = events.openProjectionStore();
      try {
        await crashLoop(events, projections, {
          CRASH_STORE: "postgres",
          CRASH_URL: server.url,
          CRASH_NAMESPACE: namespace,
        });
      } finally {
        await projections.close();
        await events.close();
      }
    });
  });
});
