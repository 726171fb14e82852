import { createRequire } from "node:module";
import { InvalidConfigurationError } from "@granary/core";
import { type DestinationStream, type Logger, pino } from "pino";

/** How log lines are written: JSON for machines, one colored line per event for a person. */
export type LogFormat = "json" | "pretty";

const FORMATS: readonly LogFormat[] = ["json", "pretty"];

/**
 * The log format: `GRANARY_LOG_FORMAT` when set, else pretty when stdout is a terminal and JSON
 * otherwise (a log collector, a pipe or a file always gets JSON).
 */
export function resolveLogFormat(
  env: Readonly<Record<string, string | undefined>> = process.env,
  isTerminal: boolean = process.stdout.isTTY === true,
): LogFormat {
  const chosen = env.GRANARY_LOG_FORMAT;
  if (chosen === undefined || chosen === "") return isTerminal ? "pretty" : "json";
  if (!(FORMATS as readonly string[]).includes(chosen)) {
    throw new InvalidConfigurationError("GRANARY_LOG_FORMAT", `must be one of ${FORMATS.join(", ")}, got "${chosen}"`);
  }
  return chosen as LogFormat;
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

/** Granary's default logger at `level`, in the format {@link resolveLogFormat} picks. */
export function createDefaultLogger(level: string, format: LogFormat = resolveLogFormat()): Logger {
  if (format === "json") return pino({ level });
  // pino-pretty as a synchronous stream in this thread (not a worker transport): lines appear in
  // order with the program's own output, and nothing is lost when the process exits.
  const pretty = createRequire(import.meta.url)("pino-pretty") as PrettyFactory;
  return pino(
    { level },
    pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", singleLine: true, sync: true }),
  );
}
