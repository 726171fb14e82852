import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { RecordedEvent } from "@granary/core";
import { eventually } from "@granary/testing";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "./schema.js";
import { SqliteEventStore } from "./sqlite-event-store.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = join(packageDir, "..", "..");
const dir = join(tmpdir(), `granary-sqlite-processes-${randomUUID()}`);
const children: ChildProcess[] = [];

/** Child processes run the built dist; build it when missing or older than the sources. */
function ensureBuilt(): void {
  const buildInfo = join(packageDir, "dist", ".tsbuildinfo");
  const built = existsSync(join(packageDir, "dist", "sqlite-event-store.js")) ? statSync(buildInfo).mtimeMs : 0;
  const srcDir = join(packageDir, "src");
  const sources = readdirSync(srcDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
  const newest = Math.max(...sources.map((f) => statSync(join(srcDir, f)).mtimeMs));
  if (built >= newest) return;
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-b", "packages/sqlite"], {
    cwd: repoRoot,
    stdio: "inherit",
  });
}

function runScript(script: string, args: readonly string[]): ChildProcess {
  const child = spawn(process.execPath, [join(packageDir, "test", script), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
}

beforeAll(() => ensureBuilt());
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("SqliteEventStore - processes", () => {
  it("crash - after SIGKILL of a writer mid-stream, every stream has versions 1..n without gaps and holds every acknowledged append", async () => {
    const path = join(dir, `${randomUUID()}.db`);
    const child = runScript("crash-writer.mjs", [path, "6"]);
    const acked = new Map<string, { version: number; ids: string[] }[]>();
    let ackCount = 0;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const [kind, stream, version, ids] = line.split(" ");
      if (kind !== "ack" || !stream || !version || !ids) return;
      acked.set(stream, [...(acked.get(stream) ?? []), { version: Number(version), ids: ids.split(",") }]);
      ackCount++;
    });
    await eventually(() => ackCount >= 300, "the child acknowledged 300 appends", 60_000);
    child.kill("SIGKILL");
    expect(await exited(child)).toBe("SIGKILL");

    const store = new SqliteEventStore({ path });
    try {
      for (const [stream, acks] of acked) {
        const events = await store.read(stream);
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        const stored = new Set(events.map((e) => e.id));
        for (const ack of acks) {
          expect(events.length).toBeGreaterThanOrEqual(ack.version);
          for (const id of ack.ids) expect(stored.has(id)).toBe(true);
        }
      }
      expect(acked.size).toBe(6);
    } finally {
      await store.close();
    }
  });

  it("feed - a subscriber in this process receives events another process commits", async () => {
    const path = join(dir, `${randomUUID()}.db`);
    const store = new SqliteEventStore({ path });
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribe({ fromPosition: 0, onEvent: (e) => void seen.push(e) });

    const child = runScript("open-store.mjs", [path, "remote"]);
    expect(await exited(child)).toBe(0);

    await eventually(() => seen.length === 1, "the subscriber received the other process's event");
    expect(seen[0]?.stream).toBe("Opener/remote");
    await subscription.close();
    await store.close();
  });

  it("migrations - several processes opening the same new file at once apply each migration exactly once", async () => {
    const path = join(dir, `${randomUUID()}.db`);

    const openers = Array.from({ length: 4 }, (_, i) => runScript("open-store.mjs", [path, `p${i}`]));
    const codes = await Promise.all(openers.map(exited));

    expect(codes).toEqual([0, 0, 0, 0]);
    const db = new BetterSqlite3(path, { readonly: true });
    try {
      expect(db.prepare("SELECT version FROM schema_migrations ORDER BY version").all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version })),
      );
      expect(db.prepare("SELECT count(*) AS n FROM events").get()).toEqual({ n: 4 });
    } finally {
      db.close();
    }
  });
});
