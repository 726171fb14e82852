import { InvalidConfigurationError } from "@granary/core";

/**
 * Loads an optional peer package (`@granary/sqlite`, `@granary/redis`) when a default needs it, so
 * a deployment that never uses a backend does not install it. A missing package becomes an
 * InvalidConfigurationError naming the option that asked for it and the two ways out.
 *
 * @param load `() => import("@granary/x")`, written at the call site so the module keeps its types.
 * @param option the option whose value (or absence) needs the package, e.g. "store" or "redis".
 * @param instead what the user can pass instead of installing it.
 */
export async function loadOptionalPackage<T>(
  load: () => Promise<T>,
  packageName: string,
  option: string,
  instead: string,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissing(error, packageName)) throw error;
    throw new InvalidConfigurationError(
      option,
      `this needs the package ${packageName}, which is not installed: add it (npm install ${packageName}), or ${instead}`,
    );
  }
}

function isMissing(error: unknown, packageName: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    typeof message === "string" &&
    message.includes(`'${packageName}'`)
  );
}
