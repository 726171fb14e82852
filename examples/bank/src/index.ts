/** The bank example's actors, shared by the demo, the cluster silo and the cluster client. */
export {
  Account,
  AccountNotOpen,
  type AccountState,
  type HistoryEntry,
  InsufficientFunds,
  InvalidAmount,
} from "./account.js";
export { Transfer, type TransferState, type TransferStatus } from "./transfer.js";

import { Account, AccountNotOpen, InsufficientFunds, InvalidAmount } from "./account.js";
import { Transfer } from "./transfer.js";

export const bankActors = [Account, Transfer];
/** Domain errors revived with their class when they cross the wire. */
export const bankErrors = [InsufficientFunds, InvalidAmount, AccountNotOpen];
