/**
 * Drives a bank cluster from outside: `node examples/bank/dist/client.js`. Discovers the silos
 * from Redis membership, opens a few accounts, moves money between them concurrently and prints
 * the balances (the total never changes: transfers only move money).
 *
 *   GRANARY_REDIS_URL=redis://127.0.0.1:6379 GRANARY_CLUSTER_KEY=... node examples/bank/dist/client.js
 */
import { Client } from "@granary/runtime";
import { Account, bankErrors, Transfer } from "./index.js";

const client = await Client.connect({ errors: bankErrors });
const accounts = Array.from({ length: 10 }, (_, i) => `acct-${i}`);
await Promise.all(accounts.map((id) => client.get(Account, id).open(`Owner ${id}`)));
await Promise.all(accounts.map((id) => client.get(Account, id).deposit(1_000_00, `seed:${id}`)));

const run = Date.now().toString(36);
const transfers = Array.from({ length: 200 }, (_, i) => {
  const from = accounts[i % accounts.length] as string;
  const to = accounts[(i * 7 + 3) % accounts.length] as string;
  return client.get(Transfer, `${run}-${i}`).execute(from, to, 1_00 + (i % 50));
});
const results = await Promise.all(transfers);
const completed = results.filter((r) => r.status === "completed").length;

const balances = await Promise.all(accounts.map((id) => client.get(Account, id).balance()));
console.log(`gateways: ${client.gateways.join(", ")}`);
console.log(`transfers: ${completed} completed, ${results.length - completed} not`);
for (const [i, id] of accounts.entries()) console.log(`  ${id}: €${((balances[i] ?? 0) / 100).toFixed(2)}`);
console.log(`total: €${(balances.reduce((a, b) => a + b, 0) / 100).toFixed(2)} (always €${accounts.length * 1000}.00)`);
await client.close();
