import type { RecordedEvent } from "@granary/core";
import type { OperatorHistoryPage as HistoryPage } from "@granary/runtime";
import type { Command } from "commander";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { printRecord, printRows } from "../output.js";
import { pointInHistory, positiveInt } from "./arguments.js";

type Point = ReturnType<typeof pointInHistory>;

interface HistoryFlags {
  from?: Point;
  to?: Point;
  version?: number;
  limit?: number;
}

const PAGE = 1_000;

export function registerHistoryCommands(program: Command, context: CommandContext): void {
  program
    .command("history")
    .description("recorded events of one actor, oldest first, with their metadata")
    .argument("<type>", "actor type (its static `type`)")
    .argument("<id>", "actor id")
    .option("--from <version|time>", "from this version or time", pointInHistory)
    .option("--to <version|time>", "up to this version or time", pointInHistory)
    .option("--version <n>", "only this version", positiveInt)
    .option("--limit <n>", "at most this many events", positiveInt)
    .action((type: string, id: string, flags: HistoryFlags) =>
      context.withConnection(async ({ operator }) => {
        const range = historyRange(flags);
        const events: RecordedEvent[] = [];
        let next: number | null = range.fromVersion;
        while (next !== null && (flags.limit === undefined || events.length < flags.limit)) {
          const want = Math.min(PAGE, (flags.limit ?? Number.MAX_SAFE_INTEGER) - events.length);
          const page = (await operator.any("history", {
            type,
            id,
            fromVersion: next,
            limit: want,
            ...(range.toVersion === undefined ? {} : { toVersion: range.toVersion }),
            ...(range.fromTime === undefined ? {} : { from: range.fromTime }),
            ...(range.toTime === undefined ? {} : { to: range.toTime }),
          })) as HistoryPage;
          events.push(...page.events);
          next = page.next;
        }
        printRows(
          context.output(),
          events,
          [
            ["version", (e) => e.version],
            ["type", (e) => e.type],
            ["time", (e) => e.timestamp],
            ["user", (e) => e.metadata.userId],
            ["method", (e) => (e.metadata as { method?: string }).method],
            ["data", (e) => e.data],
          ],
          `no events recorded for ${type}/${id}`,
        );
      }),
    );
  program
    .command("state")
    .description("an actor's state rebuilt at a version or time (latest without --at)")
    .argument("<type>", "actor type (its static `type`)")
    .argument("<id>", "actor id")
    .option("--at <version|time>", "the version or time to rebuild the state at", pointInHistory)
    .action((type: string, id: string, flags: { at?: Point }) =>
      context.withConnection(async ({ operator }) => {
        const answer = (await operator.any("stateAt", { type, id, ...(flags.at ?? {}) })) as Record<string, unknown>;
        printRecord(context.output(), { actor: `${type}/${id}`, ...answer });
      }),
    );
}

function historyRange(flags: HistoryFlags): {
  fromVersion: number;
  toVersion?: number;
  fromTime?: string;
  toTime?: string;
} {
  if (flags.version !== undefined) {
    if (flags.from || flags.to) throw new CliError("give --version alone, or --from/--to, not both");
    return { fromVersion: flags.version, toVersion: flags.version };
  }
  return {
    fromVersion: flags.from && "version" in flags.from ? Math.max(1, flags.from.version) : 1,
    ...(flags.to && "version" in flags.to ? { toVersion: flags.to.version } : {}),
    ...(flags.from && "time" in flags.from ? { fromTime: flags.from.time } : {}),
    ...(flags.to && "time" in flags.to ? { toTime: flags.to.time } : {}),
  };
}
