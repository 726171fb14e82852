import { InvalidConfigurationError } from "@granary/core";

/**
 * A positive integer option: the option if given, else its environment variable, else the default.
 * @param unit what the number counts, for the error message
 */
export function positiveInt(
  option: string,
  value: number | undefined,
  envValue: string | undefined,
  fallback: number,
  unit = "milliseconds",
): number {
  if (value !== undefined) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new InvalidConfigurationError(option, `must be a positive integer (${unit}), got ${String(value)}`);
    }
    return value;
  }
  if (envValue !== undefined && envValue !== "") {
    const parsed = Number(envValue);
    if (!Number.isInteger(parsed) || parsed <= 0) {
      throw new InvalidConfigurationError(
        option,
        `its environment variable must be a positive integer, got "${envValue}"`,
      );
    }
    return parsed;
  }
  return fallback;
}

/** An integer option that may be 0 (0 usually turns the feature off): the option if given, else the default. */
export function nonNegativeInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidConfigurationError(option, `must be an integer ≥ 0, got ${String(value)}`);
  }
  return value;
}
