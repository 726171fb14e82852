import { DomainError, EventSourcedActor } from "@granary/core";

export class OutOfStock extends DomainError {
  constructor(sku: string, available: number, wanted: number) {
    super("OUT_OF_STOCK", `only ${available} of ${sku} available, ${wanted} wanted`, {
      data: { sku, available, wanted },
    });
  }
}

export type InventoryEvent =
  | { type: "Restocked"; quantity: number }
  | { type: "Reserved"; quantity: number; cart: string }
  | { type: "Released"; quantity: number; cart: string }
  | { type: "Sold"; quantity: number; cart: string };

export interface InventoryState {
  readonly available: number;
  readonly reserved: number;
  readonly sold: number;
}

/** Stock of one SKU (the actor id is the SKU): carts reserve, release and finally buy. */
export class Inventory extends EventSourcedActor<InventoryState, InventoryEvent> {
  static readonly type = "Inventory";

  initialState(): InventoryState {
    return { available: 0, reserved: 0, sold: 0 };
  }

  apply(state: InventoryState, event: InventoryEvent): InventoryState {
    switch (event.type) {
      case "Restocked":
        return { ...state, available: state.available + event.quantity };
      case "Reserved":
        return { ...state, available: state.available - event.quantity, reserved: state.reserved + event.quantity };
      case "Released":
        return { ...state, available: state.available + event.quantity, reserved: state.reserved - event.quantity };
      case "Sold":
        return { ...state, reserved: state.reserved - event.quantity, sold: state.sold + event.quantity };
    }
  }

  async restock(quantity: number): Promise<InventoryState> {
    this.raise({ type: "Restocked", quantity });
    return this.state;
  }

  async reserve(quantity: number, cart: string): Promise<void> {
    if (quantity > this.state.available) throw new OutOfStock(this.id, this.state.available, quantity);
    this.raise({ type: "Reserved", quantity, cart });
  }

  async release(quantity: number, cart: string): Promise<void> {
    this.raise({ type: "Released", quantity, cart });
  }

  async sell(quantity: number, cart: string): Promise<void> {
    this.raise({ type: "Sold", quantity, cart });
  }

  async stock(): Promise<InventoryState> {
    return this.state;
  }
}
