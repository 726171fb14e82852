#!/usr/bin/env node
import { Command } from "commander";
import { createProject } from "./create-project.js";
import { CreateProjectError, resolveProjectOptions } from "./project-options.js";

const program = new Command("create-granary")
  .description("Create a Granary project: one event-sourced actor, a silo, a client, a test and a README.")
  .argument("<folder>", "where to write the project (must not exist or be empty)")
  .option("--cluster", "add a Redis cluster variant (client.ts, scripts/redis.sh)", false)
  .option("--name <name>", "package name (default: the folder's name)")
  .option("--granary-version <range>", "version range of the @granary packages", undefined)
  .option("--granary-workspace <path>", "link the @granary packages of a local Granary checkout instead")
  .action(
    (
      folder: string,
      flags: { cluster: boolean; name?: string; granaryVersion?: string; granaryWorkspace?: string },
    ) => {
      const options = resolveProjectOptions(folder, flags);
      const { dir, files } = createProject(folder, options);
      process.stdout.write(
        `Created ${options.name} in ${dir} (${files.length} files).\n\n  cd ${folder}\n  pnpm install && pnpm dev\n  pnpm test\n`,
      );
    },
  );

try {
  await program.parseAsync();
} catch (error) {
  if (!(error instanceof CreateProjectError)) throw error;
  process.stderr.write(`create-granary: ${error.message}\n`);
  process.exitCode = 1;
}
