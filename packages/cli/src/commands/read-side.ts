import type { Command } from "commander";
import { printRows } from "../output.js";
import type { CommandContext } from "../program.js";

/** Projections and reminders: shown as the silos report them. */
export function registerReadSideCommands(program: Command, context: CommandContext): void {
  program
    .command("projections")
    .description("projections with their checkpoint, lag and rebuild progress")
    .action(() =>
      context.withConnection(async ({ operator }) => {
        const list = (await operator.any("projections", {})) as Record<string, unknown>[];
        printRows(context.output(), list, [
          ["name", (p) => p.name],
          ["version", (p) => p.version],
          ["status", (p) => p.status],
          ["checkpoint", (p) => p.checkpoint],
          ["lag", (p) => p.lag],
          ["silo", (p) => p.siloId],
        ]);
      }),
    );
  program
    .command("reminders")
    .description("durable reminders of one actor")
    .argument("<type>", "actor type")
    .argument("<id>", "actor id")
    .action((type: string, id: string) =>
      context.withConnection(async ({ operator }) => {
        const list = (await operator.any("reminders", { type, id })) as Record<string, unknown>[];
        printRows(context.output(), list, [
          ["name", (r) => r.name],
          ["due", (r) => r.dueAt ?? r.due],
          ["period ms", (r) => r.periodMs],
          ["missed", (r) => r.missed],
        ]);
      }),
    );
}
