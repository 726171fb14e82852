import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CreateProjectError, type ProjectOptions } from "./project-options.js";
import { accountSource, accountTestSource } from "./templates/actor.js";
import { gitignore, packageJson, tsconfigJson } from "./templates/manifest.js";
import { clientSource, devSource, redisScript, siloSource } from "./templates/programs.js";
import { readme } from "./templates/readme.js";

/** The files of a new project, by path relative to its folder. */
export function projectFiles(options: ProjectOptions): Map<string, string> {
  const files = new Map<string, string>([
    ["package.json", packageJson(options)],
    ["tsconfig.json", tsconfigJson()],
    [".gitignore", gitignore()],
    ["README.md", readme(options)],
    ["src/account.ts", accountSource()],
    ["src/account.test.ts", accountTestSource()],
    ["src/dev.ts", devSource()],
    ["src/silo.ts", siloSource(options)],
  ]);
  if (options.cluster) {
    files.set("src/client.ts", clientSource());
    files.set("scripts/redis.sh", redisScript());
  }
  return files;
}

/**
 * Writes a new project into `target`, which must not exist or be empty: an existing project is
 * never overwritten. Returns the absolute folder and the files written.
 */
export function createProject(target: string, options: ProjectOptions): { dir: string; files: string[] } {
  const dir = resolve(target);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new CreateProjectError(`${dir} is not empty: choose a new folder name`);
  }
  const files = projectFiles(options);
  for (const [path, content] of files) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: path.endsWith(".sh") ? 0o755 : 0o644 });
  }
  return { dir, files: [...files.keys()] };
}
