import type { SiloInfo, SiloRouting } from "@granary/runtime";
import type { Command } from "commander";
import type { CommandContext } from "../command-context.js";
import { printRows } from "../output.js";

export function registerSilosCommand(program: Command, context: CommandContext): void {
  program
    .command("silos")
    .description("silos of the cluster with their status, activations, load and the share of client calls forwarded")
    .action(() =>
      context.withConnection(async ({ operator }) => {
        const reports = await operator.silos();
        printRows(context.output(), reports, [
          ["address", (r) => r.address],
          ["silo", (r) => ("info" in r ? r.info.siloId : "—")],
          ["status", (r) => ("info" in r ? (r.info as SiloInfo).status : `unreachable: ${r.error}`)],
          ["activations", (r) => ("info" in r ? r.info.activations : "—")],
          ["calls", (r) => ("info" in r ? r.info.callsTotal : "—")],
          ["forwarded", (r) => ("info" in r && r.info.routing ? forwardedShare(r.info.routing) : "—")],
          ["in flight", (r) => ("info" in r && r.info.load ? r.info.load.callsInFlight : "—")],
          ["shed", (r) => ("info" in r && r.info.load ? r.info.load.shedTotal : "—")],
          ["load", (r) => ("info" in r && r.info.load ? (r.info.load.overloaded ? "OVERLOADED" : "ok") : "—")],
          ["rss MiB", (r) => ("info" in r && r.info.memory ? (r.info.memory.rssBytes / 1_048_576).toFixed(1) : "—")],
          ["up s", (r) => ("info" in r && r.info.uptimeMs !== undefined ? Math.round(r.info.uptimeMs / 1000) : "—")],
        ]);
      }),
    );
}

/** Share of the client calls this silo received that it had to forward: high while clients learn owners. */
function forwardedShare(routing: SiloRouting): string {
  if (routing.clientCalls === 0) return "—";
  return `${((100 * routing.clientCallsForwarded) / routing.clientCalls).toFixed(1)}%`;
}
