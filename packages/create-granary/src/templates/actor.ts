/** The project's one event-sourced actor and its test: the shape every Granary aggregate follows. */
export function accountSource(): string {
  return `import { DomainError, EventSourcedActor } from "@granary/core";

export type AccountEvent =
  | { type: "Opened"; owner: string }
  | { type: "Deposited"; amount: number }
  | { type: "Withdrawn"; amount: number };

export interface AccountState {
  readonly owner: string | null;
  readonly balance: number;
}

export class InsufficientFunds extends DomainError {
  constructor(balance: number, amount: number) {
    super("INSUFFICIENT_FUNDS", \`balance \${balance} is less than \${amount}\`, { data: { balance, amount } });
  }
}

/** One bank account. Every change is an event; the state is a pure fold over them. */
export class Account extends EventSourcedActor<AccountState, AccountEvent> {
  static readonly type = "Account"; // part of every stream name: never rename it
  static readonly readOnly = ["balance"] as const; // may run beside each other, never beside a write

  initialState(): AccountState {
    return { owner: null, balance: 0 };
  }

  apply(state: AccountState, event: AccountEvent): AccountState {
    switch (event.type) {
      case "Opened":
        return { ...state, owner: event.owner };
      case "Deposited":
        return { ...state, balance: state.balance + event.amount };
      case "Withdrawn":
        return { ...state, balance: state.balance - event.amount };
    }
  }

  async open(owner: string): Promise<void> {
    if (this.state.owner !== null) throw new DomainError("ALREADY_OPEN", "the account is already open");
    this.raise({ type: "Opened", owner });
  }

  async deposit(amount: number): Promise<number> {
    if (!(amount > 0)) throw new DomainError("INVALID_AMOUNT", "amount must be positive");
    this.raise({ type: "Deposited", amount }); // applied at once: this.state sees it
    return this.state.balance;
  }

  async withdraw(amount: number): Promise<number> {
    if (amount > this.state.balance) throw new InsufficientFunds(this.state.balance, amount);
    this.raise({ type: "Withdrawn", amount });
    return this.state.balance;
  }

  async balance(): Promise<number> {
    return this.state.balance;
  }
}
`;
}

export function accountTestSource(): string {
  return `import { ActorSpec } from "@granary/testing";
import { describe, expect, it } from "vitest";
import { Account } from "./account.js";

describe("Account", () => {
  it("given an open account with 10, when 4 are withdrawn, then a Withdrawn event is committed", async () => {
    const outcome = await ActorSpec.for(Account)
      .given([{ type: "Opened", owner: "ada" }, { type: "Deposited", amount: 10 }])
      .when((account) => account.withdraw(4));
    expect(outcome).toEqual({ result: 6, events: [{ type: "Withdrawn", amount: 4 }] });
  });

  it("given 3 on the account, when 5 are withdrawn, then it refuses with INSUFFICIENT_FUNDS and commits nothing", async () => {
    const outcome = await ActorSpec.for(Account)
      .given([{ type: "Opened", owner: "ada" }, { type: "Deposited", amount: 3 }])
      .when((account) => account.withdraw(5));
    expect(outcome).toMatchObject({ error: { code: "INSUFFICIENT_FUNDS" } });
  });
});
`;
}
