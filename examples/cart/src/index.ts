/** The cart example's actors and read model, shared by the demo, tests and cluster fixtures. */
export { Cart, CartClosed, type CartEvent, type CartState } from "./cart.js";
export { Hesitation, type HesitationDocument } from "./hesitation.js";
export { Inventory, type InventoryEvent, type InventoryState, OutOfStock } from "./inventory.js";

import { Cart, CartClosed } from "./cart.js";
import { Inventory, OutOfStock } from "./inventory.js";

export const cartActors = [Cart, Inventory];
/** Domain errors revived with their class when they cross the wire. */
export const cartErrors = [OutOfStock, CartClosed];
