import { unavailable } from "./results.js";
import type { Scenario } from "./scenario.js";

/**
 * A scenario whose subject has not landed yet. `check` returns why it cannot run, or undefined
 * once the pieces exist (then the scenario still reports unavailable until its rows are written,
 * instead of printing numbers it did not measure).
 */
export function pendingScenario(name: string, title: string, check: () => Promise<string | undefined>): Scenario {
  return {
    name,
    title,
    async run() {
      const missing = await check();
      return unavailable(name, title, missing ?? "its pieces have landed; the scenario's rows are still to be written");
    },
  };
}

/** Why a package export is missing, or undefined when `module` exports every one of `names`. */
export async function missingExports(
  load: () => Promise<unknown>,
  packageName: string,
  names: readonly string[],
): Promise<string | undefined> {
  let module: Record<string, unknown>;
  try {
    module = (await load()) as Record<string, unknown>;
  } catch (error) {
    return `${packageName} does not load: ${(error as Error).message}`;
  }
  const absent = names.filter((name) => module[name] === undefined);
  return absent.length === 0 ? undefined : `${packageName} does not export ${absent.join(", ")} yet`;
}
