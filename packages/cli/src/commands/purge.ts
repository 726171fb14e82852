import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { printRecord } from "../output.js";

interface PurgeFlags {
  reason?: string;
  requestedBy?: string;
  yes?: boolean;
}

export function registerPurgeCommand(program: Command, context: CommandContext): void {
  program
    .command("purge")
    .description("forget one actor for good (right to be forgotten): its events and snapshots, leaving a tombstone")
    .argument("<type>", "actor type (its static `type`)")
    .argument("<id>", "actor id")
    .requiredOption("--reason <text>", "why (recorded in the tombstone)")
    .option("--requested-by <who>", "who asked for it (recorded in the tombstone)", process.env.USER)
    .option("--yes", "do not ask for confirmation")
    .action(async (type: string, id: string, flags: PurgeFlags) => {
      if (!flags.requestedBy) throw new CliError("--requested-by is required (who asked for the purge)");
      if (
        !flags.yes &&
        !(await confirm(context, `Purge ${type}/${id} for good? This cannot be undone. Type the id to confirm: `, id))
      ) {
        throw new CliError("purge cancelled: nothing was changed");
      }
      await context.withConnection(async ({ operator }) => {
        const result = await operator.any("purge", { type, id, reason: flags.reason, requestedBy: flags.requestedBy });
        printRecord(context.output(), {
          purged: `${type}/${id}`,
          ...(typeof result === "object" && result !== null ? (result as Record<string, unknown>) : {}),
        });
      });
    });
}

async function confirm(context: CommandContext, question: string, expected: string): Promise<boolean> {
  const prompt = createInterface({ input: context.io.stdin, output: context.io.stderr, terminal: false });
  try {
    return (await prompt.question(question)).trim() === expected;
  } finally {
    prompt.close();
  }
}
