import { Client } from "@granary/runtime";
import { startPostgresServer, startRedisServer } from "@granary/testing";
import pg from "pg";
import { Cart, cartErrors, Inventory } from "../../../examples/cart/dist/index.js";
import { CART_MIX, CART_SKUS, CART_STOCK, type CartOp, mixSummary, Shopper, skuIds } from "../lib/cart-mix.js";
import type { BenchConfig } from "../lib/config.js";
import { EchoClient, startEchoServer } from "../lib/echo-link.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { createRawPostgresTable, multiRowInsert, RAW_PG_SCHEMA, rowParams } from "../lib/raw-postgres.js";
import { BENCH_CLUSTER_KEY, type RemoteSilo, startRemoteSilo } from "../lib/remote-silo.js";
import type { Scenario } from "../lib/scenario.js";
import { scratchDir } from "../lib/tmp.js";
import type { ScenarioResult } from "../lib/types.js";

const NAME = "cart-e2e";
const TITLE = "End to end: the cart example on 3 silos and PostgreSQL";
const SILOS = 3;
const CLUSTER = "bench-cart-e2e";
/** Each silo's event-store pool (the store's default): the raw appends get as many connections. */
const SILO_POOL = 10;
const RAW_POOL = SILOS * SILO_POOL;

interface Context {
  readonly postgresUrl: string;
  readonly redisUrl: string;
  readonly echoPort: number;
  readonly namespace: string;
}

/** A tag no other case or run shares: carts, SKUs and raw streams are named after it. */
const tagOf = (label: string) => `${label}-${process.pid}-${Date.now()}`;

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const granary = (callers: number): CaseSpec["setup"] => {
    return async () => {
      const tag = tagOf(`g${callers}`);
      const client = await Client.connect({
        redis: context.redisUrl,
        clusterName: CLUSTER,
        clusterKey: BENCH_CLUSTER_KEY,
        errors: cartErrors,
      });
      for (const sku of skuIds(tag)) await client.get(Inventory, sku).restock(CART_STOCK);
      const shoppers = Array.from({ length: callers }, (_, i) => new Shopper(tag, i));
      const call = (op: CartOp) => {
        const cart = client.get(Cart, op.cart);
        switch (op.kind) {
          case "add":
            return cart.add(op.sku, 1);
          case "remove":
            return cart.remove(op.sku);
          case "checkout":
            return cart.checkout();
        }
      };
      return {
        concurrency: callers,
        op: (worker) => call((shoppers[worker] as Shopper).next()),
        extra: async () => ({ ...mixSummary(shoppers), ...(await countEvents(context, tag, shoppers)) }),
        teardown: () => client.close(),
      };
    };
  };
  const raw = (callers: number, parts: { readonly echo: boolean; readonly postgres: boolean }): CaseSpec["setup"] => {
    return async () => {
      const tag = tagOf(`r${callers}${parts.echo ? "e" : ""}${parts.postgres ? "p" : ""}`);
      const pool = parts.postgres ? new pg.Pool({ connectionString: context.postgresUrl, max: RAW_POOL }) : undefined;
      // The server is stopped after the cases; an idle connection it terminates must not crash the run.
      pool?.on("error", () => {});
      const echo = parts.echo ? await EchoClient.connect(context.echoPort) : undefined;
      const sql = multiRowInsert(1);
      const versions = new Map<string, number>();
      let ids = 0;
      const shoppers = Array.from({ length: callers }, (_, i) => new Shopper(tag, i));
      return {
        concurrency: callers,
        op: async (worker) => {
          // The steps in order, as the actor calls make them: a round trip, then that actor's append.
          for (const step of (shoppers[worker] as Shopper).next().steps) {
            if (echo) await echo.call(step.actorType, step.actorId, step.eventType, [step.data]);
            if (pool) {
              const stream = `${tag}/${step.actorType}/${step.actorId}`;
              const version = (versions.get(stream) ?? 0) + 1;
              versions.set(stream, version);
              await pool.query(
                sql,
                rowParams(`${tag}-${ids++}`, stream, version, step.eventType, JSON.stringify(step.data)),
              );
            }
          }
        },
        extra: () => mixSummary(shoppers),
        teardown: async () => {
          echo?.close();
          await pool?.end();
        },
      };
    };
  };
  return [1, config.storeCallers].flatMap((callers): CaseSpec[] => {
    const load = callers === 1 ? "sequential" : `${callers} callers`;
    const sum = `raw sum (echo + INSERT per step), ${load}`;
    return [
      {
        name: `raw PostgreSQL appends, ${load}`,
        role: "baseline",
        setup: raw(callers, { echo: false, postgres: true }),
      },
      { name: `raw echo round trips, ${load}`, role: "baseline", setup: raw(callers, { echo: true, postgres: false }) },
      { name: sum, role: "baseline", setup: raw(callers, { echo: true, postgres: true }) },
      { name: `granary cart, ${SILOS} silos, ${load}`, role: "granary", baseline: sum, setup: granary(callers) },
    ];
  });
}

/**
 * Every acknowledged operation's events are in PostgreSQL: one per step, plus the restocks. Read on
 * a connection of its own after the runs (the store's fsync and synchronous_commit are on).
 */
async function countEvents(context: Context, tag: string, shoppers: readonly Shopper[]) {
  const expected = CART_SKUS + shoppers.reduce((sum, s) => sum + s.counts.steps, 0);
  const client = new pg.Client({ connectionString: context.postgresUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      "SELECT count(*) FROM granary.events WHERE namespace = $1 AND (starts_with(stream, $2) OR starts_with(stream, $3))",
      [context.namespace, `Cart/${tag}-`, `Inventory/${tag}-`],
    );
    const found = Number(rows[0]?.count);
    return { eventsExpected: expected, eventsFound: found, everyAcknowledgedEventDurable: found === expected };
  } finally {
    await client.end();
  }
}

/**
 * The cart example's workload (60% add, 25% remove, 15% checkout over 10 SKUs, each add and
 * remove reserving or releasing on the SKU's Inventory actor) from one client on a 3-silo cluster
 * (Redis membership and directory, events in PostgreSQL), against the sum of its raw parts measured
 * in the same run: per actor call, a raw echo round trip to another process and one INSERT
 * transaction of that call's event.
 */
export const cartE2e: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  smokeTimeoutMs: 120_000,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const dir = scratchDir(config, NAME);
    const stops: (() => Promise<void>)[] = [async () => dir.remove()];
    try {
      const postgres = await startPostgresServer({ fsync: true });
      stops.push(() => postgres.stop());
      const redis = await startRedisServer({ appendonly: true });
      stops.push(() => redis.stop());
      const echo = await startEchoServer(dir.path);
      stops.push(() => echo.stop());
      await createRawPostgresTable(postgres.url);
      const namespace = `cart-${process.pid}-${Date.now()}`;
      const silos: RemoteSilo[] = [];
      // One after another: the first one migrates the schema.
      for (let i = 0; i < SILOS; i++) {
        const silo = await startRemoteSilo({
          redisUrl: redis.url,
          clusterName: CLUSTER,
          tracing: "off",
          cart: { postgresUrl: postgres.url, namespace },
        });
        silos.push(silo);
        stops.push(() => silo.stop());
      }
      const context: Context = { postgresUrl: postgres.url, redisUrl: redis.url, echoPort: echo.port, namespace };
      const rows = await runCases(NAME, cases(config, context), config, context);
      const activations = await Promise.all(silos.map((s) => s.activations()));
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows,
        settings: {
          mix: `${CART_MIX.add}% add, ${CART_MIX.remove}% remove, ${CART_MIX.checkout}% checkout; a remove on an empty cart adds instead`,
          skus: CART_SKUS,
          callers: [1, config.storeCallers],
          silos: `${SILOS} processes, cluster mode on a throwaway Redis (AOF on), Client.connect({ redis }) from the bench`,
          postgres: `throwaway local PostgreSQL with fsync=on, synchronous_commit=on; PostgresEventStore per silo (pool ${SILO_POOL}, group commit), snapshots every 100 events (pool 2)`,
          raw: `echo: cross-silo's msgpackr echo over TCP to another process, one connection; appends: one single-row INSERT transaction per event into ${RAW_PG_SCHEMA}.events (Granary's columns and constraints), pool ${RAW_POOL}`,
          activationsPerSilo: activations.join(" / "),
        },
        notes: [
          "Steps of an operation: add = reserve on Inventory + record on Cart, remove = release + record, checkout = sell each SKU in the cart + record. Each step is one actor call and one appended event; stepsPerOp is their mean.",
          "Raw parts, per step and in sequence: one echo round trip to another process (the floor under an RPC, as in cross-silo) then one INSERT transaction of the step's event (as es-postgres's per-event design). The raw sum does both, the two part rows each alone. The raw rows skip what the actor model adds: stock checks serialized per SKU (contention), placement, directory, gateway hops between silos, snapshots.",
          `Activations per silo at the end: ${activations.join(" / ")}. On 2 cores the client, 3 silos, Redis, PostgreSQL and the echo server share the same cores.`,
        ],
      };
    } finally {
      for (const stop of stops.reverse()) await stop();
    }
  },
};
