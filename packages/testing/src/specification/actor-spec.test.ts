import { DomainError, EventSourcedActor } from "@granary/core";
import { describe, expect, it } from "vitest";
import { ActorSpec } from "./actor-spec.js";

type CartEvent = { type: "ItemAdded"; sku: string } | { type: "CheckedOut" };

class Cart extends EventSourcedActor<{ items: string[]; done: boolean }, CartEvent> {
  static readonly type = "Cart";
  initialState() {
    return { items: [] as string[], done: false };
  }
  apply(state: { items: string[]; done: boolean }, event: CartEvent) {
    return event.type === "ItemAdded" ? { ...state, items: [...state.items, event.sku] } : { ...state, done: true };
  }
  async add(sku: string) {
    if (this.state.done) throw new DomainError("CART_CLOSED", "the cart was checked out");
    this.raise({ type: "ItemAdded", sku });
    return this.state.items.length;
  }
  async checkout() {
    if (this.state.items.length === 0) throw new DomainError("CART_EMPTY", "nothing to check out");
    this.raise({ type: "CheckedOut" });
  }
}

describe("ActorSpec", () => {
  it("given history, when a command runs, then it reports the events it committed and its result", async () => {
    const outcome = await ActorSpec.for(Cart)
      .given([{ type: "ItemAdded", sku: "a" }])
      .when((cart) => cart.add("b"));
    expect(outcome).toEqual({ result: 2, events: [{ type: "ItemAdded", sku: "b" }] });
  });

  it("given history, when a command is rejected, then it reports the error and no events", async () => {
    const outcome = await ActorSpec.for(Cart)
      .given([{ type: "ItemAdded", sku: "a" }, { type: "CheckedOut" }])
      .when((cart) => cart.add("b"));
    expect(outcome).toMatchObject({ error: { code: "CART_CLOSED" } });
  });

  it("with no history, the command runs on the initial state", async () => {
    expect(await ActorSpec.for(Cart).when((cart) => cart.checkout())).toMatchObject({ error: { code: "CART_EMPTY" } });
  });
});
