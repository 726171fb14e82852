import { messageOf } from "@granary/core";
import { adminMessage } from "./admin-frame.js";
import type { ActivationQuery, ActivationView, SiloInfo } from "./admin-types.js";

/** How an operator reaches the silos: their addresses now, and one request to one of them. */
export interface OperatorTransport {
  addresses(): Promise<readonly string[]>;
  request(address: string, payload: unknown, timeoutMs: number): Promise<unknown>;
}

/** A silo's answer, or why it gave none (an unreachable silo is shown, not hidden). */
export type SiloReport =
  | { readonly address: string; readonly info: SiloInfo }
  | { readonly address: string; readonly error: string };

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The operator's view of a whole cluster, asked silo by silo: what the `granary` CLI and the
 * inspector show. Every silo answers for itself, so a view is as fresh as its slowest silo.
 */
export class OperatorClient {
  readonly #transport: OperatorTransport;
  readonly #timeoutMs: number;

  constructor(transport: OperatorTransport, timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.#transport = transport;
    this.#timeoutMs = timeoutMs;
  }

  /** One operator request to the silo at `address`. */
  request(address: string, op: string, args: Record<string, unknown> = {}): Promise<unknown> {
    return this.#transport.request(address, adminMessage(op, args), this.#timeoutMs);
  }

  /** Every silo's report, in address order. */
  async silos(): Promise<SiloReport[]> {
    const addresses = [...(await this.#transport.addresses())].sort();
    return Promise.all(
      addresses.map(async (address): Promise<SiloReport> => {
        try {
          return { address, info: (await this.request(address, "info")) as SiloInfo };
        } catch (error) {
          return { address, error: messageOf(error) };
        }
      }),
    );
  }

  /** Activations across the cluster matching `query` (its limit applies per silo, then overall). */
  async activations(query: ActivationQuery = {}): Promise<ActivationView[]> {
    const addresses = await this.#transport.addresses();
    const perSilo = await Promise.all(
      addresses.map((address) =>
        (this.request(address, "activations", { ...query }) as Promise<ActivationView[]>).catch(() => []),
      ),
    );
    const all = perSilo
      .flat()
      .sort((a, b) => (a.type === b.type ? a.id.localeCompare(b.id) : a.type.localeCompare(b.type)));
    return query.limit === undefined ? all : all.slice(0, query.limit);
  }

  /** The live activation of `type/id` with its state, wherever it runs; null when none is active. */
  async activation(type: string, id: string): Promise<ActivationView | null> {
    const addresses = await this.#transport.addresses();
    const answers = await Promise.all(
      addresses.map((address) =>
        (this.request(address, "activation", { type, id }) as Promise<ActivationView | null>).catch(() => null),
      ),
    );
    return answers.find((view) => view !== null) ?? null;
  }

  /** Any one silo's answer to `op` (history, time travel: every silo can answer them). */
  async any(op: string, args: Record<string, unknown>): Promise<unknown> {
    const addresses = await this.#transport.addresses();
    let lastError: unknown = new Error("no silo is reachable: is the cluster running?");
    for (const address of addresses) {
      try {
        return await this.request(address, op, args);
      } catch (error) {
        if ((error as { code?: string }).code !== "CONNECTION_ERROR") throw error;
        lastError = error;
      }
    }
    throw lastError;
  }
}
