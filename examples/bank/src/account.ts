import { DomainError, EventSourcedActor, type RecordedEvent } from "@granary/core";

/** Thrown when a withdrawal exceeds the balance; callers get it with this name and code. */
export class InsufficientFunds extends DomainError {
  constructor(accountId: string, balance: number, amount: number) {
    super("INSUFFICIENT_FUNDS", `account ${accountId} has ${balance} cents, cannot withdraw ${amount}`, {
      data: { accountId, balance, amount },
    });
  }
}

export class InvalidAmount extends DomainError {
  constructor(amount: number) {
    super("INVALID_AMOUNT", `amount must be a positive integer number of cents, got ${amount}`, { data: { amount } });
  }
}

export class AccountNotOpen extends DomainError {
  constructor(accountId: string) {
    super("ACCOUNT_NOT_OPEN", `account ${accountId} is not open; call open(owner) first`, { data: { accountId } });
  }
}

export type AccountEvent =
  | { type: "AccountOpened"; owner: string }
  | { type: "MoneyDeposited"; amount: number; transferId: string | null }
  | { type: "MoneyWithdrawn"; amount: number; transferId: string | null };

export interface AccountState {
  readonly owner: string | null;
  readonly balance: number;
  /** Transfer legs already applied, so a retried transfer step never moves money twice. */
  readonly transferLegs: readonly string[];
}

/** One history line as the demo prints it. */
export interface HistoryEntry {
  readonly version: number;
  readonly type: string;
  readonly data: RecordedEvent["data"];
  readonly at: string;
  readonly userId: string | undefined;
  readonly correlationId: string;
}

/**
 * A bank account. Amounts are integer cents. Relies on defaults: snapshot every 100 events
 * (`snapshotEvery`), snapshot format version 1 (`snapshotVersion`).
 */
export class Account extends EventSourcedActor<AccountState, AccountEvent> {
  static readonly type = "Account";
  /** They raise nothing: they may run side by side, and answer about the past through `asOf`. */
  static readonly readOnly = ["balance", "history"] as const;

  initialState(): AccountState {
    return { owner: null, balance: 0, transferLegs: [] };
  }

  apply(state: AccountState, event: AccountEvent): AccountState {
    switch (event.type) {
      case "AccountOpened":
        return { ...state, owner: event.owner };
      case "MoneyDeposited":
        return {
          ...state,
          balance: state.balance + event.amount,
          transferLegs: event.transferId ? [...state.transferLegs, event.transferId] : state.transferLegs,
        };
      case "MoneyWithdrawn":
        return {
          ...state,
          balance: state.balance - event.amount,
          transferLegs: event.transferId ? [...state.transferLegs, event.transferId] : state.transferLegs,
        };
    }
  }

  async open(owner: string): Promise<void> {
    if (this.state.owner !== null) return; // Opening twice is a no-op, so callers can retry safely.
    this.raise({ type: "AccountOpened", owner });
  }

  /** Deposits `amount` cents; with a `transferId`, a repeated call for the same leg is a no-op. */
  async deposit(amount: number, transferId: string | null = null): Promise<number> {
    this.#requireOpen();
    checkAmount(amount);
    if (transferId && this.state.transferLegs.includes(transferId)) return this.state.balance;
    this.raise({ type: "MoneyDeposited", amount, transferId });
    return this.state.balance;
  }

  async withdraw(amount: number, transferId: string | null = null): Promise<number> {
    this.#requireOpen();
    checkAmount(amount);
    if (transferId && this.state.transferLegs.includes(transferId)) return this.state.balance;
    if (amount > this.state.balance) throw new InsufficientFunds(this.id, this.state.balance, amount);
    this.raise({ type: "MoneyWithdrawn", amount, transferId });
    return this.state.balance;
  }

  async balance(): Promise<number> {
    return this.state.balance;
  }

  async history(): Promise<HistoryEntry[]> {
    const events = await this.loadHistory();
    return events.map((e) => ({
      version: e.version,
      type: e.type,
      data: e.data,
      at: e.timestamp,
      userId: e.metadata.userId,
      correlationId: e.metadata.correlationId,
    }));
  }

  #requireOpen(): void {
    if (this.state.owner === null) throw new AccountNotOpen(this.id);
  }
}

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new InvalidAmount(amount);
}
