import type { BusEvent } from "@granary/runtime";
import type { Command } from "commander";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { positiveInt } from "./arguments.js";

interface TailFlags {
  id?: string;
  allNamespaces?: boolean;
  count?: number;
}

export function registerTailCommand(program: Command, context: CommandContext): void {
  program
    .command("tail")
    .description(
      "live events committed anywhere in the cluster, by subject pattern (e.g. 'default.Cart.*', 'default.>')",
    )
    .argument("<pattern>", "subject pattern <namespace>.<ActorType>.<EventType> with NATS-style * and >")
    .option("--id <actorId>", "only events of this actor id")
    .option("--all-namespaces", "allow a pattern whose namespace is a wildcard")
    .option("--count <n>", "stop after this many events", positiveInt)
    .action((pattern: string, flags: TailFlags) =>
      context.withConnection(async ({ events, target }) => {
        if (!events)
          throw new CliError(
            `tail needs a running silo: on a data dir pass --actors, or connect to ${target} with --gateway/--redis`,
          );
        const out = context.output();
        let seen = 0;
        let finish: () => void = () => {};
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        const subscription = events.subscribe(
          pattern,
          (event: BusEvent) => {
            out.stdout.write(out.json ? `${JSON.stringify(event)}\n` : `${line(event)}\n`);
            seen++;
            if (flags.count !== undefined && seen >= flags.count) finish();
          },
          {
            ...(flags.id ? { actorId: flags.id } : {}),
            ...(flags.allNamespaces ? { crossNamespace: true } : {}),
            onDropped: (error: Error) => {
              out.stderr.write(`granary: ${error.message}\n`);
              finish();
            },
          },
        );
        await subscription.ready;
        if (!out.json) out.stderr.write(`tailing ${pattern} on ${target} (Ctrl-C to stop)\n`);
        const stop = () => finish();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        try {
          await finished;
        } finally {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          await subscription.close();
        }
      }),
    );
}

function line(event: BusEvent): string {
  const who = event.metadata.userId ? ` by ${event.metadata.userId}` : "";
  return `${event.timestamp}  ${event.subject}  ${event.actorType}/${event.actorId} v${event.version}${who}  ${JSON.stringify(event.data)}`;
}
