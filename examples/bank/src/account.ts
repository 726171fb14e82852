import { DomainError, EventSourcedActor, type RecordedEvent, type ReminderTick } from "@granary/core";

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
  | { type: "MoneyWithdrawn"; amount: number; transferId: string | null }
  | { type: "HoldPlaced"; holdId: string; amount: number; expiresAt: string }
  | { type: "HoldReleased"; holdId: string; reason: "released" | "expired" };

export interface AccountState {
  readonly owner: string | null;
  readonly balance: number;
  /** Transfer legs already applied, so a retried transfer step never moves money twice. */
  readonly transferLegs: readonly string[];
  /** Money reserved (e.g. a card authorization) by hold id: not available for withdrawals. */
  readonly holds: Readonly<Record<string, number>>;
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
    return { owner: null, balance: 0, transferLegs: [], holds: {} };
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
      case "HoldPlaced":
        return { ...state, holds: { ...state.holds, [event.holdId]: event.amount } };
      case "HoldReleased": {
        const { [event.holdId]: _released, ...holds } = state.holds;
        return { ...state, holds };
      }
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
    const available = this.#available();
    if (amount > available) throw new InsufficientFunds(this.id, available, amount);
    this.raise({ type: "MoneyWithdrawn", amount, transferId });
    return this.state.balance;
  }

  /**
   * Reserves `amount` cents for `ttlMs` (a card authorization): withdrawals cannot touch it. A
   * durable reminder releases it when it expires, even if the account was deactivated or its silo
   * died in between. Placing the same hold id again is a no-op.
   */
  async placeHold(holdId: string, amount: number, ttlMs: number): Promise<number> {
    this.#requireOpen();
    checkAmount(amount);
    if (holdId in this.state.holds) return this.#available();
    const available = this.#available();
    if (amount > available) throw new InsufficientFunds(this.id, available, amount);
    const expiresAt = new Date(Date.now() + ttlMs).toISOString();
    this.raise({ type: "HoldPlaced", holdId, amount, expiresAt });
    // Default missed policy "fire-once": after downtime an expired hold is released once, late.
    await this.remind(`hold:${holdId}`, { inMs: ttlMs });
    return this.#available();
  }

  /** Releases a hold before it expires; false when there is no such hold. */
  async releaseHold(holdId: string): Promise<boolean> {
    if (!(holdId in this.state.holds)) return false;
    this.raise({ type: "HoldReleased", holdId, reason: "released" });
    await this.cancelReminder(`hold:${holdId}`);
    return true;
  }

  /** A hold's reminder fell due. At least once: a hold already released makes a repeat a no-op. */
  override async onReminder(name: string, _tick: ReminderTick): Promise<void> {
    const holdId = name.startsWith("hold:") ? name.slice("hold:".length) : undefined;
    if (holdId !== undefined && holdId in this.state.holds) {
      this.raise({ type: "HoldReleased", holdId, reason: "expired" });
    }
  }

  async balance(): Promise<number> {
    return this.state.balance;
  }

  /** Balance minus holds: what can be withdrawn now. */
  async available(): Promise<number> {
    return this.#available();
  }

  async heldAmount(): Promise<number> {
    return this.state.balance - this.#available();
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

  #available(): number {
    return Object.values(this.state.holds).reduce((left, held) => left - held, this.state.balance);
  }

  #requireOpen(): void {
    if (this.state.owner === null) throw new AccountNotOpen(this.id);
  }
}

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new InvalidAmount(amount);
}
