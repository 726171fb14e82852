/**
 * @granary/runtime/client — what a process that only calls actors needs (a web server, a script):
 * the Client and its options, without the silo, the catalog or any store. Importing it loads no
 * backend; `@granary/redis` is loaded only when the client discovers gateways through Redis.
 *
 * @example
 * import { Client } from "@granary/runtime/client";
 * import { Account } from "./account.js";
 *
 * const client = await Client.connect({ redis: "redis://127.0.0.1:6379", clusterKey });
 * await client.get(Account, "acc-1").deposit(5);
 * await client.close();
 */

export { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CLUSTER_NAME } from "../options/defaults.js";
export { Client, type ClientRouting } from "./client.js";
export {
  type ClientOptions,
  DEFAULT_GATEWAY_REFRESH_MS,
  DEFAULT_OWNER_CACHE_SIZE,
  resolveClientOptions,
} from "./client-options.js";
