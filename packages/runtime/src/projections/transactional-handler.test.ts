import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HandlerContext, HandlerProjection, type ProjectedEvent } from "@granary/core";
import { SqliteEventStore } from "@granary/sqlite";

/** The part of better-sqlite3's Database the handler uses (the runtime does not depend on it). */
interface Database {
  exec(sql: string): void;
  prepare(sql: string): { run(...values: unknown[]): unknown; all(): unknown[] };
}

import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Cart, type CartEvent } from "../__fixtures__/cart.js";
import { Silo } from "../silo/silo.js";

const silent = pino({ level: "silent" });
const running: Silo[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** Writes its own table inside the checkpoint's transaction; throws on the SKU "boom". */
class SalesLedger extends HandlerProjection<CartEvent> {
  static readonly projection = "sales-ledger";
  static readonly events = ["ItemAdded"];
  static readonly transactional = true;
  static readonly retry = { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 };

  handle(event: ProjectedEvent<CartEvent>, { position, transaction }: HandlerContext): void {
    const db = transaction as Database;
    db.exec("CREATE TABLE IF NOT EXISTS sales (position INTEGER PRIMARY KEY, sku TEXT NOT NULL)");
    const sku = (event.data as { sku: string }).sku;
    db.prepare("INSERT INTO sales (position, sku) VALUES (?, ?)").run(position, sku);
    if (sku === "boom") throw new Error("ledger refused boom");
  }
}

describe("transactional handler projection (SQLite)", () => {
  it("the handler's own writes commit with the checkpoint, and roll back with it when the handler throws", async () => {
    const path = join(tmpdir(), `granary-tx-handler-${randomUUID()}.db`);
    const store = new SqliteEventStore({ path });
    const silo = await Silo.start({ actors: [Cart], projections: [SalesLedger], store, logger: silent });
    running.push(silo);
    const projections = store.openProjectionStore();

    await silo.get(Cart, "c1").add("socks");
    await silo.get(Cart, "c1").add("scarf");
    await vi.waitFor(async () => expect((await projections.checkpoint("sales-ledger@v1"))?.position).toBe(2));

    await silo.get(Cart, "c1").add("boom");
    await vi.waitFor(async () => {
      const [status] = await silo.projections.status();
      expect(status?.state).toBe("failed");
    });
    const [status] = await silo.projections.status();
    expect(status?.error).toMatchObject({ position: 3 });
    // The insert for "boom" was rolled back with its checkpoint; the first two are there.
    let rows: unknown[] = [];
    // A no-op commit of another projection, only to get the transaction handle and read the table.
    await projections.commit("probe@v1", {
      expectedPosition: 0,
      position: 0,
      transaction: (db) => {
        rows = (db as Database).prepare("SELECT position, sku FROM sales ORDER BY position").all();
      },
    });
    expect(rows).toEqual([
      { position: 1, sku: "socks" },
      { position: 2, sku: "scarf" },
    ]);
    expect((await projections.checkpoint("sales-ledger@v1"))?.position).toBe(2);
    await projections.close();
    await silo.stop();
    rmSync(path, { force: true });
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
  });
});
