import { Actor, DomainError, EventSourcedActor } from "@granary/core";

export type LedgerEvent =
  | { type: "Credited"; amount: number; note: string }
  | { type: "Debited"; amount: number }
  | { type: "Renamed"; name: string };

export interface LedgerState {
  readonly name: string;
  readonly balance: number;
  readonly entries: number;
}

/** An event-sourced actor with readOnly methods listed as a tuple, for history and asOf tests. */
export class Ledger extends EventSourcedActor<LedgerState, LedgerEvent> {
  static readonly type = "Ledger";
  static readonly readOnly = ["balance", "summary", "ownHistory"] as const;
  static snapshotEvery = 3;

  initialState(): LedgerState {
    return { name: "", balance: 0, entries: 0 };
  }

  apply(state: LedgerState, event: LedgerEvent): LedgerState {
    switch (event.type) {
      case "Credited":
        return { ...state, balance: state.balance + event.amount, entries: state.entries + 1 };
      case "Debited":
        return { ...state, balance: state.balance - event.amount, entries: state.entries + 1 };
      case "Renamed":
        return { ...state, name: event.name };
    }
  }

  async credit(amount: number, note = ""): Promise<number> {
    this.raise({ type: "Credited", amount, note });
    return this.state.balance;
  }

  async debit(amount: number): Promise<number> {
    if (amount > this.state.balance) throw new DomainError("INSUFFICIENT_FUNDS", "not enough");
    this.raise({ type: "Debited", amount });
    return this.state.balance;
  }

  /** Credits once `Ledger.gate` resolves: holds a turn open for race tests. */
  async slowCredit(amount: number): Promise<number> {
    this.raise({ type: "Credited", amount, note: "slow" });
    Ledger.slowStarted++;
    await Ledger.gate;
    return this.state.balance;
  }

  static gate: Promise<void> = Promise.resolve();
  static slowStarted = 0;

  async rename(name: string): Promise<void> {
    this.raise({ type: "Renamed", name });
  }

  async balance(): Promise<number> {
    return this.state.balance;
  }

  async summary(): Promise<{ state: LedgerState; version: number }> {
    return { state: this.state, version: this.version };
  }

  async ownHistory(): Promise<number[]> {
    return (await this.loadHistory()).map((e) => e.version);
  }
}

/** Lists readOnly as a plain string[]: the type of its past reference cannot narrow. */
export class LooseLedger extends EventSourcedActor<{ balance: number }, { type: "Credited"; amount: number }> {
  static readonly type = "LooseLedger";
  static readonly readOnly: readonly string[] = ["balance"];
  initialState() {
    return { balance: 0 };
  }
  apply(state: { balance: number }, event: { type: "Credited"; amount: number }) {
    return { balance: state.balance + event.amount };
  }
  async credit(amount: number): Promise<number> {
    this.raise({ type: "Credited", amount });
    return this.state.balance;
  }
  async balance(): Promise<number> {
    return this.state.balance;
  }
}

/** Declares no readOnly methods: a past reference exposes nothing. */
export class Notebook extends EventSourcedActor<{ lines: number }, { type: "Written" }> {
  static readonly type = "Notebook";
  initialState() {
    return { lines: 0 };
  }
  apply(state: { lines: number }) {
    return { lines: state.lines + 1 };
  }
  async write(): Promise<number> {
    this.raise({ type: "Written" });
    return this.state.lines;
  }
}

export class Volatile extends Actor {
  static readonly type = "Volatile";
  async ping(): Promise<string> {
    return "pong";
  }
}

/** Moves money between ledgers: one call that changes three streams (for correlation and parent calls). */
export class Teller extends EventSourcedActor<
  { transfers: number },
  { type: "TransferRecorded"; from: string; to: string }
> {
  static readonly type = "Teller";
  initialState() {
    return { transfers: 0 };
  }
  apply(state: { transfers: number }) {
    return { transfers: state.transfers + 1 };
  }
  async transfer(from: string, to: string, amount: number): Promise<void> {
    await this.get(Ledger, from).debit(amount);
    await this.get(Ledger, to).credit(amount, `from ${from}`);
    this.raise({ type: "TransferRecorded", from, to });
  }
}
