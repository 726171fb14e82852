/**
 * `create-granary`: scaffolds a Granary project with one event-sourced actor, a silo, a test and a
 * README whose two commands work (`pnpm install && pnpm dev`, `pnpm test`).
 *
 * @example
 * // pnpm create granary my-app [--cluster]
 * import { createProject, resolveProjectOptions } from "create-granary";
 * createProject("my-app", resolveProjectOptions("my-app", { cluster: true }));
 */
export { createProject, projectFiles } from "./create-project.js";
export { CreateProjectError, type ProjectOptions, resolveProjectOptions } from "./project-options.js";
