import { DomainError, EventSourcedActor } from "@granary/core";
import { Inventory } from "./inventory.js";

export class CartClosed extends DomainError {
  constructor(cart: string) {
    super("CART_CLOSED", `cart ${cart} is checked out; start a new cart`, { data: { cart } });
  }
}

export type CartEvent =
  | { type: "ItemAdded"; sku: string; quantity: number }
  | { type: "ItemRemoved"; sku: string; quantity: number }
  | { type: "CheckedOut"; skus: string[] };

export interface CartState {
  /** SKU → quantity in the cart. */
  readonly items: Readonly<Record<string, number>>;
  readonly checkedOut: boolean;
}

/**
 * A shopping cart (the actor id is the cart id). Adding reserves stock on the SKU's Inventory
 * actor, removing releases it, checking out sells what is in the cart. `CheckedOut` carries the
 * SKUs bought, so read models can tell "removed and never bought" from "removed, then bought".
 */
export class Cart extends EventSourcedActor<CartState, CartEvent> {
  static readonly type = "Cart";

  initialState(): CartState {
    return { items: {}, checkedOut: false };
  }

  apply(state: CartState, event: CartEvent): CartState {
    switch (event.type) {
      case "ItemAdded":
        return { ...state, items: { ...state.items, [event.sku]: (state.items[event.sku] ?? 0) + event.quantity } };
      case "ItemRemoved": {
        const { [event.sku]: _removed, ...items } = state.items;
        return { ...state, items };
      }
      case "CheckedOut":
        return { ...state, checkedOut: true };
    }
  }

  async add(sku: string, quantity = 1): Promise<CartState> {
    if (this.state.checkedOut) throw new CartClosed(this.id);
    await this.get(Inventory, sku).reserve(quantity, this.id);
    this.raise({ type: "ItemAdded", sku, quantity });
    return this.state;
  }

  async remove(sku: string): Promise<CartState> {
    if (this.state.checkedOut) throw new CartClosed(this.id);
    const quantity = this.state.items[sku];
    if (quantity === undefined) return this.state;
    await this.get(Inventory, sku).release(quantity, this.id);
    this.raise({ type: "ItemRemoved", sku, quantity });
    return this.state;
  }

  async checkout(): Promise<CartState> {
    if (this.state.checkedOut) throw new CartClosed(this.id);
    for (const [sku, quantity] of Object.entries(this.state.items))
      await this.get(Inventory, sku).sell(quantity, this.id);
    this.raise({ type: "CheckedOut", skus: Object.keys(this.state.items) });
    return this.state;
  }

  async contents(): Promise<CartState> {
    return this.state;
  }
}
