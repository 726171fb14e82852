import { DocumentProjection, type ProjectedEvent } from "@granary/core";
import type { CartEvent } from "./cart.js";

/** Per SKU: the carts that added it, removed it and have not bought it (yet). */
export interface HesitationDocument {
  readonly sku: string;
  /** Carts that removed the SKU and have not bought it since. */
  readonly hesitantCarts: string[];
  /** How many times the SKU was removed from a cart, ever. */
  readonly removals: number;
  /** Carts that removed the SKU and later bought it after all. */
  readonly changedMind: number;
}

/**
 * The "hesitation" read model: items added then removed and never bought, per SKU. Declared after
 * the carts already exist: on first start it is built from position 0 over their whole history,
 * then follows new commits. Bump `version` after changing `apply` and it is rebuilt side by side.
 */
export class Hesitation extends DocumentProjection<HesitationDocument, CartEvent> {
  static readonly projection = "hesitation";
  static readonly version = 1;
  static readonly events = ["ItemAdded", "ItemRemoved", "CheckedOut"];
  static readonly actorTypes = ["Cart"];

  key(event: ProjectedEvent<CartEvent>): string | string[] {
    // A checkout concerns every SKU it bought (several documents from one event).
    return event.type === "CheckedOut" ? event.data.skus : event.data.sku;
  }

  initialDocument(sku: string): HesitationDocument {
    return { sku, hesitantCarts: [], removals: 0, changedMind: 0 };
  }

  apply(doc: HesitationDocument, event: ProjectedEvent<CartEvent>): HesitationDocument {
    const cart = event.stream.slice("Cart/".length);
    const hesitant = doc.hesitantCarts.includes(cart);
    switch (event.type) {
      case "ItemRemoved":
        return hesitant
          ? { ...doc, removals: doc.removals + 1 }
          : { ...doc, hesitantCarts: [...doc.hesitantCarts, cart], removals: doc.removals + 1 };
      case "CheckedOut":
        // Bought after all: not a hesitation any more.
        return hesitant
          ? { ...doc, hesitantCarts: doc.hesitantCarts.filter((c) => c !== cart), changedMind: doc.changedMind + 1 }
          : doc;
      case "ItemAdded":
        return doc;
    }
  }
}
