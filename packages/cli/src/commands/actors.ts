import type { Command } from "commander";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { printRecord, printRows } from "../output.js";
import { positiveInt } from "./arguments.js";

export function registerActorCommands(program: Command, context: CommandContext): void {
  program
    .command("actors")
    .description("active actors across the silos")
    .argument("[type]", "only this actor type")
    .option("--id <text>", "only ids containing this text")
    .option("--limit <n>", "at most this many", positiveInt, 100)
    .action((type: string | undefined, options: { id?: string; limit: number }) =>
      context.withConnection(async ({ operator }) => {
        const list = await operator.activations({
          ...(type ? { type } : {}),
          ...(options.id ? { idContains: options.id } : {}),
          limit: options.limit,
        });
        printRows(context.output(), list, [
          ["type", (a) => a.type],
          ["id", (a) => a.id],
          ["silo", (a) => a.siloId],
          ["state", (a) => a.state],
          ["version", (a) => a.version],
          ["epoch", (a) => a.epoch],
          ["mailbox", (a) => a.mailboxDepth],
        ]);
      }),
    );
  program
    .command("actor")
    .description("one active actor: owner silo, epoch, version and state")
    .argument("<type>", "actor type (its static `type`)")
    .argument("<id>", "actor id")
    .action((type: string, id: string) =>
      context.withConnection(async ({ operator }) => {
        const view = await operator.activation(type, id);
        if (!view)
          throw new CliError(
            `${type}/${id} is not active on any silo (see its events with: granary history ${type} ${id})`,
          );
        printRecord(context.output(), {
          actor: `${view.type}/${view.id}`,
          silo: view.siloId,
          activation: view.state,
          epoch: view.epoch,
          version: view.version,
          state: view.actorState,
        });
      }),
    );
}
