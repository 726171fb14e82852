import type { Command } from "commander";
import type { CommandContext } from "../command-context.js";
import { printRows } from "../output.js";

/** Projections and reminders: shown as the silos report them. */
export function registerReadSideCommands(program: Command, context: CommandContext): void {
  program
    .command("projections")
    .description("projections with their checkpoint, lag and rebuild progress")
    .action(() =>
      context.withConnection(async ({ operator }) => {
        const list = (await operator.any("projections", {})) as Record<string, unknown>[];
        printRows(
          context.output(),
          list,
          [
            ["name", (p) => p.name],
            ["version", (p) => p.version],
            ["kind", (p) => p.kind],
            ["state", (p) => p.state],
            ["progress", (p) => progressBar(Number(p.position), Number(p.head))],
            ["lag", (p) => p.lag],
            ["rate/s", (p) => (typeof p.ratePerSecond === "number" ? Math.round(p.ratePerSecond) : undefined)],
            ["eta", (p) => (typeof p.etaMs === "number" ? `${Math.ceil(p.etaMs / 1000)} s` : undefined)],
            ["error", (p) => (p.error as { message?: string } | undefined)?.message],
          ],
          "no projections registered",
        );
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
          ["due", (r) => r.dueAt],
          ["period ms", (r) => r.periodMs],
          ["missed", (r) => r.missed],
        ]);
      }),
    );
}

/** `[#######---] 70% 700/1000`: events done of the feed head, for a rebuild in progress. */
export function progressBar(position: number, head: number, width = 20): string {
  if (!Number.isFinite(position) || !Number.isFinite(head) || head <= 0) return "—";
  const done = Math.min(1, Math.max(0, position / head));
  const filled = Math.round(done * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.floor(done * 100)}% ${position}/${head}`;
}
