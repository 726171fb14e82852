import { startInspector } from "@granary/inspector";
import { operatorInspectorSource } from "@granary/runtime";
import { type Command, InvalidArgumentError } from "commander";
import type { CommandContext } from "../command-context.js";

export function registerInspectCommand(program: Command, context: CommandContext): void {
  program
    .command("inspect")
    .description("serve the browser inspector for this cluster or data dir until Ctrl-C")
    .option("--port <n>", "port (0 = any free one)", port, 8_080)
    .option("--host <interface>", "interface to listen on", "127.0.0.1")
    .option("--allow-purge", "allow purge from the page, unlocked by the cluster key")
    .action((flags: { port: number; host: string; allowPurge?: boolean }) =>
      context.withConnection(async ({ operator, target }) => {
        const key = context.io.env.GRANARY_CLUSTER_KEY;
        const inspector = await startInspector(
          operatorInspectorSource(operator),
          { port: flags.port, host: flags.host, ...(flags.allowPurge && key ? { purgeKey: key } : {}) },
          target,
        );
        context.io.stdout.write(`Granary inspector for ${target}: ${inspector.url}\n`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await inspector.close();
      }),
    );
}

function port(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535)
    throw new InvalidArgumentError(`expected a port, got "${text}"`);
  return value;
}
