import { basename } from "node:path";

/** What `create-granary` writes. */
export interface ProjectOptions {
  /** The package name, from the target folder's name unless given. */
  readonly name: string;
  /** Adds a Redis cluster variant: `src/client.ts`, `scripts/redis.sh` and cluster scripts. */
  readonly cluster: boolean;
  /**
   * How the project depends on Granary: a version range from the registry, or the path of a Granary
   * checkout whose built packages it links to (used to try unpublished changes, and by the tests).
   * @default "^0.1.0"
   */
  readonly granary: { readonly version: string } | { readonly workspace: string };
}

/** Thrown for a target or name that cannot become a project; the message says what to change. */
export class CreateProjectError extends Error {
  override readonly name = "CreateProjectError";
}

const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

export function resolveProjectOptions(
  target: string,
  options: { name?: string; cluster?: boolean; granaryWorkspace?: string; granaryVersion?: string },
): ProjectOptions {
  const name = options.name ?? basename(target).toLowerCase();
  if (!PACKAGE_NAME.test(name) || name.length > 214) {
    throw new CreateProjectError(
      `"${name}" is not a valid npm package name: use lower-case letters, digits, "-", "." or "_" (or pass --name)`,
    );
  }
  if (options.granaryWorkspace !== undefined && options.granaryVersion !== undefined) {
    throw new CreateProjectError("give either --granary-workspace or --granary-version, not both");
  }
  return {
    name,
    cluster: options.cluster ?? false,
    granary:
      options.granaryWorkspace !== undefined
        ? { workspace: options.granaryWorkspace }
        : { version: options.granaryVersion ?? "^0.1.0" },
  };
}
