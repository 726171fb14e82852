import { Actor, DomainError, EventSourcedActor } from "@granary/core";

export class InsufficientFunds extends DomainError {
  constructor(balance: number, amount: number) {
    super("INSUFFICIENT_FUNDS", `balance ${balance} is less than ${amount}`, { data: { balance, amount } });
  }
}

export type AccountEvent =
  | { type: "Opened"; owner: string }
  | { type: "Deposited"; amount: number }
  | { type: "Withdrawn"; amount: number };

export interface AccountState {
  readonly owner: string | null;
  readonly balance: number;
  readonly deposits: number;
}

export class Account extends EventSourcedActor<AccountState, AccountEvent> {
  static readonly type = "Account";
  static snapshotEvery = 0;

  initialState(): AccountState {
    return { owner: null, balance: 0, deposits: 0 };
  }

  apply(state: AccountState, event: AccountEvent): AccountState {
    switch (event.type) {
      case "Opened":
        return { ...state, owner: event.owner };
      case "Deposited":
        return { ...state, balance: state.balance + event.amount, deposits: state.deposits + 1 };
      case "Withdrawn":
        return { ...state, balance: state.balance - event.amount };
    }
  }

  async deposit(amount: number): Promise<number> {
    this.raise({ type: "Deposited", amount });
    return this.state.balance;
  }

  /** Deposits, then yields to the event loop before returning: exposes any lost-update race. */
  async slowDeposit(amount: number): Promise<number> {
    const before = this.state.balance;
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.raise({ type: "Deposited", amount });
    if (this.state.balance !== before + amount) throw new Error("another turn interleaved");
    return this.state.balance;
  }

  async withdraw(amount: number): Promise<number> {
    if (amount > this.state.balance) throw new InsufficientFunds(this.state.balance, amount);
    this.raise({ type: "Withdrawn", amount });
    return this.state.balance;
  }

  /** Raises, then throws: the event must be rolled back. */
  async depositThenFail(amount: number): Promise<number> {
    this.raise({ type: "Deposited", amount });
    throw new Error(`failed after depositing ${amount}`);
  }

  async raiseRaw(event: unknown): Promise<void> {
    this.raise(event as AccountEvent);
  }

  /** Raises a payload that could not even be passed as an argument (arguments are wire data). */
  async raiseNonWire(kind: "map" | "instance" | "function" | "cycle"): Promise<void> {
    const amounts = { map: new Map(), instance: new (class Money {})(), function: () => 1, cycle: {} };
    const event: Record<string, unknown> = { type: "Deposited", amount: amounts[kind] };
    if (kind === "cycle") event.self = event;
    this.raise(event as unknown as AccountEvent);
  }

  async mutateState(): Promise<void> {
    (this.state as { balance: number }).balance = 1_000_000;
  }

  async balance(): Promise<number> {
    return this.state.balance;
  }

  async snapshot(): Promise<{ state: AccountState; version: number }> {
    return { state: this.state, version: this.version };
  }

  /** Calls another account which calls back into this one (A → B → A). */
  async pingPong(otherId: string): Promise<number> {
    this.raise({ type: "Deposited", amount: 1 });
    const other = this.get(Account, otherId);
    return other.callBack(this.id);
  }

  async callBack(originId: string): Promise<number> {
    this.raise({ type: "Deposited", amount: 10 });
    return this.get(Account, originId).deposit(100);
  }
}

/** A volatile actor: state is lost on deactivation. */
export class Counter extends Actor {
  static readonly type = "Counter";
  #count = 0;
  activations = 0;
  static deactivations = 0;

  override async onActivate(): Promise<void> {
    this.activations++;
  }

  override async onDeactivate(): Promise<void> {
    Counter.deactivations++;
  }

  async increment(): Promise<number> {
    return ++this.#count;
  }

  async sleep(ms: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.id;
  }

  syncMethod(): number {
    return this.#count;
  }
}

/** Resolves every waiter once `parties` calls are inside `arrive` at the same time. */
export class Rendezvous extends Actor {
  static readonly type = "Rendezvous";
  static waiting: (() => void)[] = [];

  async arrive(parties: number): Promise<string> {
    await new Promise<void>((resolve) => {
      Rendezvous.waiting.push(resolve);
      if (Rendezvous.waiting.length === parties) for (const wake of Rendezvous.waiting.splice(0)) wake();
    });
    return this.id;
  }
}
