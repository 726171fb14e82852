import { InvalidArgumentError } from "commander";

/** Commander parser for an integer >= 1. */
export function positiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new InvalidArgumentError(`expected an integer >= 1, got "${text}"`);
  return value;
}

/** A point in an actor's history: a version (an integer) or a time (ISO 8601). */
export function pointInHistory(text: string): { version: number } | { time: string } {
  if (/^\d+$/.test(text)) {
    const version = Number(text);
    if (!Number.isSafeInteger(version)) throw new InvalidArgumentError(`version ${text} is too large`);
    return { version };
  }
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) {
    throw new InvalidArgumentError(
      `expected a version (e.g. 12) or an ISO time (e.g. 2026-03-03T12:00:00Z), got "${text}"`,
    );
  }
  return { time: time.toISOString() };
}
