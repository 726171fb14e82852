import { Command, CommanderError, Option } from "commander";
import { CliError } from "./cli-error.js";
import type { CliIo, CommandContext } from "./command-context.js";
import { registerActorCommands } from "./commands/actors.js";
import { registerHistoryCommands } from "./commands/history.js";
import { registerInspectCommand } from "./commands/inspect.js";
import { registerPurgeCommand } from "./commands/purge.js";
import { registerReadSideCommands } from "./commands/read-side.js";
import { registerSilosCommand } from "./commands/silos.js";
import { registerTailCommand } from "./commands/tail.js";
import { type ConnectionOptions, openConnection } from "./connection.js";

interface GlobalOptions extends ConnectionOptions {
  readonly json?: boolean;
}

/** Builds the `granary` command line. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("granary")
    .description("Look inside a Granary cluster or a local data dir: silos, actors, history, time travel, purge.")
    .addOption(new Option("--redis <url>", "Redis of the cluster").env("GRANARY_REDIS_URL"))
    .addOption(new Option("--cluster-key <key>", "the cluster's shared key").env("GRANARY_CLUSTER_KEY"))
    .addOption(new Option("--cluster <name>", "cluster name in Redis").env("GRANARY_CLUSTER"))
    .option("--gateway <host:port...>", "a silo to connect to (repeatable) instead of Redis discovery")
    .option("--data-dir <dir>", "a standalone silo's data dir (embedded SQLite), opened in this process")
    .option("--actors <module>", "with --data-dir: a module exporting the actor classes (for state and actor)")
    .option("--json", "print JSON instead of tables")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const context: CommandContext = {
    io,
    output: () => ({ json: program.opts<GlobalOptions>().json === true, stdout: io.stdout, stderr: io.stderr }),
    async withConnection(work) {
      const { json: _json, ...connection } = program.opts<GlobalOptions>();
      const opened = await openConnection(connection, io.env);
      try {
        return await work(opened);
      } finally {
        await opened.close();
      }
    },
  };
  registerSilosCommand(program, context);
  registerActorCommands(program, context);
  registerHistoryCommands(program, context);
  registerReadSideCommands(program, context);
  registerTailCommand(program, context);
  registerPurgeCommand(program, context);
  registerInspectCommand(program, context);
  return program;
}

/** Runs the CLI; resolves with the exit code. Errors are one line on stderr. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    const prefix = error instanceof CliError || typeof code !== "string" ? "" : `${code}: `;
    io.stderr.write(`granary: ${prefix}${message.split("\n")[0]}\n`);
    return 1;
  }
}
