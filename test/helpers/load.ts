import type { Client } from "@granary/runtime";
import { Account } from "../../examples/bank/src/index.js";

export interface LoadResult {
  /** Acknowledged deposits: account → list of deposit tags (transfer ids). */
  readonly acked: Map<string, string[]>;
  /** Calls that failed with an error whose outcome is unknown (connection dropped mid-call). */
  readonly unknown: Map<string, number>;
  /** Calls that failed in a way that proves they did not execute. */
  readonly refused: number;
  readonly failures: { readonly code: string; readonly message: string }[];
}

/** A running load: how many deposits were acknowledged so far, and its result once `until` resolved. */
export interface RunningLoad {
  acknowledged(): number;
  readonly done: Promise<LoadResult>;
}

/**
 * Runs `workers` loops that each deposit 1 cent into a random account with a unique tag, until
 * `until` resolves. Every acknowledged deposit is recorded with its tag.
 */
export function depositLoad(
  clients: readonly Client[],
  accounts: readonly string[],
  workers: number,
  until: Promise<void>,
): RunningLoad {
  let acknowledged = 0;
  const done = runLoad(clients, accounts, workers, until, () => acknowledged++);
  return { acknowledged: () => acknowledged, done };
}

async function runLoad(
  clients: readonly Client[],
  accounts: readonly string[],
  workers: number,
  until: Promise<void>,
  onAck: () => void,
): Promise<LoadResult> {
  const acked = new Map<string, string[]>();
  const unknown = new Map<string, number>();
  const failures: { code: string; message: string }[] = [];
  let refused = 0;
  let done = false;
  void until.then(() => {
    done = true;
  });
  let sequence = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const client = clients[w % clients.length] as Client;
      while (!done) {
        const account = accounts[Math.floor(Math.random() * accounts.length)] as string;
        const tag = `w${w}-${sequence++}`;
        try {
          await client.get(Account, account).deposit(1, tag);
          acked.set(account, [...(acked.get(account) ?? []), tag]);
          onAck();
        } catch (error) {
          const e = error as { code?: string; message?: string; retryable?: boolean };
          // The test is over (its clients were closed): stop instead of spinning on refusals.
          if (e.code === "SHUTTING_DOWN" && /client/.test(e.message ?? "")) return;
          failures.push({ code: e.code ?? "?", message: e.message ?? String(error) });
          if (e.code === "CONNECTION_ERROR" || e.code === "CALL_TIMEOUT")
            unknown.set(account, (unknown.get(account) ?? 0) + 1);
          else refused++;
          // A refusal can come back without any I/O: let timers and child-process events run.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }),
  );
  return { acked, unknown, refused, failures };
}
