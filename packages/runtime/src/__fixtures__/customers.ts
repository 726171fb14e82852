import { DomainError, EventSourcedActor, type Personal, type PersonalData } from "@granary/core";

export type CustomerEvent =
  | { type: "Registered"; customerId: string; name: Personal<string>; email: Personal<string>; plan: string }
  | { type: "EmailChanged"; customerId: string; email: Personal<string> }
  | { type: "PlanChanged"; plan: string };

export interface CustomerState {
  readonly name: Personal<string> | null;
  readonly email: Personal<string> | null;
  readonly plan: string | null;
  readonly emails: number;
}

/** A customer whose name and email are personal data of the customer (subject = customerId). */
export class Customer extends EventSourcedActor<CustomerState, CustomerEvent> {
  static readonly type: string = "Customer";
  static snapshotEvery = 2;
  static readonly readOnly = ["profile"];
  static readonly personalData: PersonalData<CustomerEvent> = {
    Registered: { subject: (e) => e.customerId, fields: ["name", "email"] },
    EmailChanged: { subject: (e) => e.customerId, fields: ["email"] },
  };

  initialState(): CustomerState {
    return { name: null, email: null, plan: null, emails: 0 };
  }

  apply(state: CustomerState, event: CustomerEvent): CustomerState {
    switch (event.type) {
      case "Registered":
        return { name: event.name, email: event.email, plan: event.plan, emails: 1 };
      case "EmailChanged":
        return { ...state, email: event.email, emails: state.emails + 1 };
      case "PlanChanged":
        return { ...state, plan: event.plan };
    }
  }

  async register(name: string, email: string, plan = "basic"): Promise<CustomerState> {
    if (this.state.plan !== null) throw new DomainError("ALREADY_REGISTERED", "customer is already registered");
    this.raise({ type: "Registered", customerId: this.id, name, email, plan });
    return this.state;
  }

  async changeEmail(email: string): Promise<CustomerState> {
    this.raise({ type: "EmailChanged", customerId: this.id, email });
    return this.state;
  }

  async changePlan(plan: string): Promise<CustomerState> {
    this.raise({ type: "PlanChanged", plan });
    return this.state;
  }

  async profile(): Promise<CustomerState> {
    return this.state;
  }

  async history(): Promise<unknown[]> {
    return (await this.loadHistory()).map((e) => ({ version: e.version, type: e.type, data: e.data }));
  }
}

export type HouseholdEvent = { type: "MemberAdded"; memberId: string; name: Personal<string> };

/** One stream with personal data of several subjects: its snapshots are sealed under all of them. */
export class Household extends EventSourcedActor<{ names: Personal<string>[] }, HouseholdEvent> {
  static readonly type = "Household";
  static snapshotEvery = 1;
  static readonly personalData: PersonalData<HouseholdEvent> = {
    MemberAdded: { subject: (e) => e.memberId, fields: ["name"] },
  };

  initialState() {
    return { names: [] };
  }

  apply(state: { names: Personal<string>[] }, event: HouseholdEvent) {
    return { names: [...state.names, event.name] };
  }

  async add(memberId: string, name: string): Promise<number> {
    this.raise({ type: "MemberAdded", memberId, name });
    return this.state.names.length;
  }

  async names(): Promise<Personal<string>[]> {
    return this.state.names;
  }
}
