import { InvalidConfigurationError } from "@granary/core";
import { type ClusterOptions, resolveListenerKey } from "../cluster/cluster-options.js";

/** Where a standalone silo (no Redis) accepts clients over TCP, when it was given a port. */
export interface ResolvedStandaloneListen {
  readonly host: string;
  readonly port: number;
  readonly clusterKey: string | undefined;
  readonly allowUnauthenticated: boolean;
  readonly tls: ClusterOptions["tls"];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A standalone silo listens for clients (`Client.connect({ gateways: ["host:port"] })`) when `port`
 * or GRANARY_PORT is given, with the same key exchange as a cluster: one process with its embedded
 * store can back a web server in another process. Undefined: no listener (in-process use only).
 * @throws InvalidConfigurationError naming the option
 */
export function resolveStandaloneListen(options: ClusterOptions, env: Env): ResolvedStandaloneListen | undefined {
  const portText = options.port === undefined ? env.GRANARY_PORT : String(options.port);
  if (portText === undefined || portText === "") {
    if (options.clusterKey !== undefined || options.allowUnauthenticated !== undefined) {
      throw new InvalidConfigurationError(
        "port",
        "a standalone silo given `clusterKey` or `allowUnauthenticated` also needs `port` (or GRANARY_PORT) to accept clients; give a port (0 = any free one), or remove the key",
      );
    }
    return undefined;
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidConfigurationError(
      "port",
      `must be an integer from 0 to 65535 (0 = any free port), got ${portText}`,
    );
  }
  const { clusterKey, allowUnauthenticated } = resolveListenerKey(
    options,
    env,
    "a standalone silo that accepts clients on `port` needs a shared key so strangers cannot call: set GRANARY_CLUSTER_KEY (e.g. `openssl rand -hex 32`) and give clients the same, or allowUnauthenticated: true for development",
  );
  return {
    host: options.host ?? env.GRANARY_HOST ?? "127.0.0.1",
    port,
    clusterKey,
    allowUnauthenticated,
    tls: options.tls,
  };
}
