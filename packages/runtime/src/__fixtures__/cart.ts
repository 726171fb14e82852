import {
  DocumentProjection,
  EventSourcedActor,
  type HandlerContext,
  HandlerProjection,
  type ProjectedEvent,
  type PurgeDocuments,
} from "@granary/core";

export type CartEvent =
  | { type: "ItemAdded"; sku: string; quantity: number }
  | { type: "ItemRemoved"; sku: string }
  | { type: "CheckedOut" };

export interface CartState {
  readonly items: Readonly<Record<string, number>>;
  readonly checkedOut: boolean;
}

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

  async add(sku: string, quantity = 1): Promise<void> {
    this.raise({ type: "ItemAdded", sku, quantity });
  }

  async remove(sku: string): Promise<void> {
    this.raise({ type: "ItemRemoved", sku });
  }

  async checkout(): Promise<void> {
    this.raise({ type: "CheckedOut" });
  }
}

export interface SkuCounts {
  added: number;
  removed: number;
}

/** Per SKU: how many times it was added and removed. */
export class SkuStats extends DocumentProjection<SkuCounts, CartEvent> {
  static readonly projection = "sku-stats";
  static readonly version = 1;
  static readonly events = ["ItemAdded", "ItemRemoved"];

  key(event: ProjectedEvent<CartEvent>): string | undefined {
    return "sku" in event.data ? event.data.sku : undefined;
  }

  initialDocument(): SkuCounts {
    return { added: 0, removed: 0 };
  }

  apply(doc: SkuCounts, event: ProjectedEvent<CartEvent>): SkuCounts {
    return event.type === "ItemAdded" ? { ...doc, added: doc.added + 1 } : { ...doc, removed: doc.removed + 1 };
  }
}

/** Per cart: the positions of its events (to prove each event counted exactly once). */
export class CartLog extends DocumentProjection<{ positions: number[] }, CartEvent> {
  static readonly projection = "cart-log";
  static readonly events = ["ItemAdded", "ItemRemoved", "CheckedOut"];

  key(event: ProjectedEvent<CartEvent>): string {
    return event.stream;
  }

  initialDocument(): { positions: number[] } {
    return { positions: [] };
  }

  apply(doc: { positions: number[] }, event: ProjectedEvent<CartEvent>): { positions: number[] } {
    return { positions: [...doc.positions, event.position] };
  }

  override onPurge(stream: string, documents: PurgeDocuments<{ positions: number[] }>): void {
    documents.delete(stream);
  }
}

/** Remembers what it handled; `failUntil` makes it throw for the first N calls. */
export class CheckoutHandler extends HandlerProjection<CartEvent> {
  static readonly projection = "checkout-handler";
  static readonly events = ["CheckedOut"];
  static readonly retry = { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 };
  static handled: number[] = [];
  /** Streams whose purge it heard of, in order. */
  static purged: string[] = [];
  static failures = 0;
  static failUntil = 0;

  handle(event: ProjectedEvent<CartEvent>, context: HandlerContext): void {
    if (CheckoutHandler.failures < CheckoutHandler.failUntil) {
      CheckoutHandler.failures++;
      throw new Error(`mail server down (${event.stream})`);
    }
    CheckoutHandler.handled.push(context.position);
  }

  override onPurge(stream: string): void {
    CheckoutHandler.purged.push(stream);
  }
}
