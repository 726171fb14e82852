import { InvalidConfigurationError } from "@granary/core";
import type { Inspector, InspectorOptions } from "@granary/inspector";
import { isAdminFrame, parseAdminFrame } from "./admin-frame.js";
import { operatorInspectorSource } from "./inspector-source.js";
import { OperatorClient, type OperatorTransport } from "./operator-client.js";
import type { SiloAdmin } from "./silo-admin.js";

/** The silo's `inspector` option: `true` for the defaults, or where to listen. */
export type SiloInspectorOption = boolean | InspectorOptions;

/**
 * The inspector a silo should serve, or undefined: the option first, then GRANARY_INSPECTOR_PORT
 * (a port, 0 for any free one). Off unless asked for: the page shows actor state.
 */
export function resolveSiloInspector(
  option: SiloInspectorOption | undefined,
  env: Readonly<Record<string, string | undefined>>,
): InspectorOptions | undefined {
  if (option === false) return undefined;
  if (option === true) return {};
  if (option !== undefined) return option;
  const text = env.GRANARY_INSPECTOR_PORT;
  if (text === undefined || text === "") return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidConfigurationError("GRANARY_INSPECTOR_PORT", `must be a port from 0 to 65535, got "${text}"`);
  }
  return { port };
}

/** How a silo reaches itself and its peers for operator requests. */
export interface SiloOperatorLinks {
  readonly admin: SiloAdmin;
  /** This silo's own address ("host:port"), or undefined when it does not listen. */
  readonly selfAddress: () => string | undefined;
  /** Addresses of the live silos of the cluster; undefined for a standalone silo. */
  readonly members: (() => Promise<readonly string[]>) | undefined;
  /** A request to another silo over the cluster transport. */
  readonly remote: ((address: string, payload: unknown, timeoutMs: number) => Promise<unknown>) | undefined;
}

/** Operator requests from inside a silo: to itself directly, to peers over the transport. */
export function siloOperatorTransport(links: SiloOperatorLinks): OperatorTransport {
  const self = () => links.selfAddress() ?? "local";
  return {
    addresses: async () => (links.members ? links.members() : [self()]),
    request: async (address, payload, timeoutMs) => {
      if (address === self() || !links.remote) {
        if (!isAdminFrame(payload)) throw new Error("operator transport carries operator requests only");
        const { op, args } = parseAdminFrame(payload);
        return links.admin.handle(op, args);
      }
      return links.remote(address, payload, timeoutMs);
    },
  };
}

/** Starts the inspector for a silo (loaded on demand, so silos without it never load the page). */
export async function startSiloInspector(
  links: SiloOperatorLinks,
  options: InspectorOptions,
  title: string,
): Promise<Inspector> {
  const { startInspector } = await import("@granary/inspector");
  return startInspector(operatorInspectorSource(new OperatorClient(siloOperatorTransport(links))), options, title);
}
