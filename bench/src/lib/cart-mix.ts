import { randomInts } from "./silo.js";

/** Share of each operation in the mix, in percent: adds, removes, checkouts. */
export const CART_MIX = { add: 60, remove: 25, checkout: 15 } as const;

/** SKUs per case: few, so carts contend on the same Inventory actors. */
export const CART_SKUS = 10;

/** Each SKU's stock: enough that no add in a run is refused, so every add reserves. */
export const CART_STOCK = 1_000_000_000;

/**
 * One operation of the mix with the actor calls it makes, in order. Each call appends exactly one
 * event on its actor's stream: an add reserves on the SKU's Inventory (Reserved) then records it
 * on the Cart (ItemAdded); a remove releases then records; a checkout sells each SKU in the cart,
 * then records CheckedOut. These steps are also what the raw baselines replay.
 */
export type CartOp =
  | { readonly kind: "add"; readonly cart: string; readonly sku: string; readonly steps: readonly CartStep[] }
  | { readonly kind: "remove"; readonly cart: string; readonly sku: string; readonly steps: readonly CartStep[] }
  | { readonly kind: "checkout"; readonly cart: string; readonly steps: readonly CartStep[] };

export interface CartStep {
  /** The actor that appends: its stream is `${actorType}/${actorId}`. */
  readonly actorType: "Cart" | "Inventory";
  readonly actorId: string;
  readonly eventType: string;
  /** The event's data, as the actor raises it. */
  readonly data: Readonly<Record<string, unknown>>;
}

export const skuIds = (tag: string): string[] => Array.from({ length: CART_SKUS }, (_, i) => `${tag}-sku-${i}`);

/**
 * One caller's shopping: a cart at a time, operations drawn from the mix. The caller knows its
 * cart's contents, so it removes only what is in it (a remove on an empty cart becomes an add) and
 * the steps are exact. The same tag and caller give the same operations, on Granary and raw alike.
 */
export class Shopper {
  readonly #tag: string;
  readonly #caller: number;
  readonly #skus: readonly string[];
  readonly #random: (bound: number) => number;
  #generation = 0;
  readonly #items = new Map<string, number>();
  /** Operations drawn, by kind, and the steps they made. */
  readonly counts = { add: 0, remove: 0, checkout: 0, steps: 0 };

  constructor(tag: string, caller: number) {
    this.#tag = tag;
    this.#caller = caller;
    this.#skus = skuIds(tag);
    this.#random = randomInts(1_009 * (caller + 1));
  }

  get #cart(): string {
    return `${this.#tag}-${this.#caller}-${this.#generation}`;
  }

  next(): CartOp {
    const roll = this.#random(100);
    const op =
      roll < CART_MIX.add || (roll < CART_MIX.add + CART_MIX.remove && this.#items.size === 0)
        ? this.#add()
        : roll < CART_MIX.add + CART_MIX.remove
          ? this.#remove()
          : this.#checkout();
    this.counts[op.kind]++;
    this.counts.steps += op.steps.length;
    return op;
  }

  #add(): CartOp {
    const cart = this.#cart;
    const sku = this.#skus[this.#random(this.#skus.length)] as string;
    this.#items.set(sku, (this.#items.get(sku) ?? 0) + 1);
    return {
      kind: "add",
      cart,
      sku,
      steps: [
        { actorType: "Inventory", actorId: sku, eventType: "Reserved", data: { quantity: 1, cart } },
        { actorType: "Cart", actorId: cart, eventType: "ItemAdded", data: { sku, quantity: 1 } },
      ],
    };
  }

  #remove(): CartOp {
    const cart = this.#cart;
    const skus = [...this.#items.keys()];
    const sku = skus[this.#random(skus.length)] as string;
    const quantity = this.#items.get(sku) as number;
    this.#items.delete(sku);
    return {
      kind: "remove",
      cart,
      sku,
      steps: [
        { actorType: "Inventory", actorId: sku, eventType: "Released", data: { quantity, cart } },
        { actorType: "Cart", actorId: cart, eventType: "ItemRemoved", data: { sku, quantity } },
      ],
    };
  }

  #checkout(): CartOp {
    const cart = this.#cart;
    const steps: CartStep[] = [...this.#items].map(([sku, quantity]) => ({
      actorType: "Inventory",
      actorId: sku,
      eventType: "Sold",
      data: { quantity, cart },
    }));
    steps.push({ actorType: "Cart", actorId: cart, eventType: "CheckedOut", data: { skus: [...this.#items.keys()] } });
    this.#items.clear();
    this.#generation++;
    return { kind: "checkout", cart, steps };
  }
}

/** The realized mix of a case's shoppers, for its row: shares in percent and steps per operation. */
export function mixSummary(shoppers: readonly Shopper[]): Record<string, number> {
  const total = { add: 0, remove: 0, checkout: 0, steps: 0 };
  for (const { counts } of shoppers) {
    total.add += counts.add;
    total.remove += counts.remove;
    total.checkout += counts.checkout;
    total.steps += counts.steps;
  }
  const ops = total.add + total.remove + total.checkout;
  const pct = (n: number) => (ops === 0 ? 0 : Math.round((n / ops) * 1000) / 10);
  return {
    operations: ops,
    addPct: pct(total.add),
    removePct: pct(total.remove),
    checkoutPct: pct(total.checkout),
    stepsPerOp: ops === 0 ? 0 : Math.round((total.steps / ops) * 100) / 100,
  };
}
