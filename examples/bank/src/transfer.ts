import { EventSourcedActor, isGranaryError } from "@granary/core";
import { Account } from "./account.js";

export type TransferEvent =
  | { type: "TransferRequested"; from: string; to: string; amount: number }
  | { type: "SourceDebited" }
  | { type: "TargetCredited" }
  | { type: "TransferRejected"; reason: string }
  | { type: "SourceRefunded"; reason: string };

export type TransferStatus = "new" | "requested" | "debited" | "completed" | "rejected" | "refunded";

export interface TransferState {
  readonly status: TransferStatus;
  readonly from: string | null;
  readonly to: string | null;
  readonly amount: number;
  readonly reason: string | null;
}

/**
 * A money transfer as a saga, one actor per transfer id. Each step is persisted before the next
 * actor is called, and every account leg carries the transfer id, so calling `execute` again after
 * a crash resumes where it stopped and never moves money twice.
 */
export class Transfer extends EventSourcedActor<TransferState, TransferEvent> {
  static readonly type = "Transfer";

  initialState(): TransferState {
    return { status: "new", from: null, to: null, amount: 0, reason: null };
  }

  apply(state: TransferState, event: TransferEvent): TransferState {
    switch (event.type) {
      case "TransferRequested":
        return { ...state, status: "requested", from: event.from, to: event.to, amount: event.amount };
      case "SourceDebited":
        return { ...state, status: "debited" };
      case "TargetCredited":
        return { ...state, status: "completed" };
      case "TransferRejected":
        return { ...state, status: "rejected", reason: event.reason };
      case "SourceRefunded":
        return { ...state, status: "refunded", reason: event.reason };
    }
  }

  async execute(from: string, to: string, amount: number): Promise<TransferState> {
    if (this.state.status === "new") {
      this.raise({ type: "TransferRequested", from, to, amount });
      await this.persist();
    }
    const { from: source, to: target } = this.state as { from: string; to: string };
    if (this.state.status === "requested") {
      try {
        await this.get(Account, source).withdraw(this.state.amount, `${this.id}:debit`);
      } catch (error) {
        if (!isGranaryError(error) || error.retryable) throw error;
        this.raise({ type: "TransferRejected", reason: error.message });
        return this.state;
      }
      this.raise({ type: "SourceDebited" });
      await this.persist();
    }
    if (this.state.status === "debited") {
      try {
        await this.get(Account, target).deposit(this.state.amount, `${this.id}:credit`);
        this.raise({ type: "TargetCredited" });
      } catch (error) {
        if (!isGranaryError(error) || error.retryable) throw error;
        await this.get(Account, source).deposit(this.state.amount, `${this.id}:refund`);
        this.raise({ type: "SourceRefunded", reason: error.message });
      }
    }
    return this.state;
  }

  async status(): Promise<TransferState> {
    return this.state;
  }
}
