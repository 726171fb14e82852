import { Actor, EventSourcedActor } from "@granary/core";

/** A plain (volatile) actor: the cheapest call the runtime can serve. */
export class BenchCounter extends Actor {
  static readonly type = "BenchCounter";
  #count = 0;

  async increment(): Promise<number> {
    return ++this.#count;
  }
}

export type LedgerEvent = { type: "Deposited"; amount: number };

export interface LedgerState {
  readonly balance: number;
  readonly deposits: number;
}

/** Folds one event: shared by the actor and by the raw baselines, so both do the same work. */
export function applyLedger(state: LedgerState, event: LedgerEvent): LedgerState {
  return { balance: state.balance + event.amount, deposits: state.deposits + 1 };
}

export const INITIAL_LEDGER: LedgerState = Object.freeze({ balance: 0, deposits: 0 });

/** A small event-sourced actor with the default snapshot policy (every 100 events). */
export class Ledger extends EventSourcedActor<LedgerState, LedgerEvent> {
  static readonly type: string = "Ledger";

  initialState(): LedgerState {
    return INITIAL_LEDGER;
  }

  apply(state: LedgerState, event: LedgerEvent): LedgerState {
    return applyLedger(state, event);
  }

  async deposit(amount: number): Promise<number> {
    this.raise({ type: "Deposited", amount });
    return this.state.balance;
  }

  async balance(): Promise<number> {
    return this.state.balance;
  }
}

/**
 * Like Ledger, but it loads snapshots without taking new ones during a run (the cold-activation
 * scenario re-activates the same prepared streams and must find them as prepared).
 */
export class ColdLedger extends Ledger {
  static override readonly type = "ColdLedger";
  static readonly snapshotEvery = 1_000_000_000;
}
