import { join } from "node:path";
import type { ProjectOptions } from "../project-options.js";

const GRANARY_PACKAGES = ["core", "runtime", "sqlite", "redis", "testing"] as const;

function granaryDependency(options: ProjectOptions, pkg: string): string {
  return "workspace" in options.granary
    ? `link:${join(options.granary.workspace, "packages", pkg)}`
    : options.granary.version;
}

/** `package.json`: the two commands of the README (`pnpm dev`, `pnpm test`) and the cluster scripts. */
export function packageJson(options: ProjectOptions): string {
  const scripts: Record<string, string> = {
    build: "tsc -p tsconfig.json",
    dev: "tsc -p tsconfig.json && node dist/dev.js",
    silo: "tsc -p tsconfig.json && node dist/silo.js",
    test: "tsc -p tsconfig.json --noEmit && vitest run",
  };
  if (options.cluster) {
    scripts.redis = "bash scripts/redis.sh";
    scripts.client = "tsc -p tsconfig.json && node dist/client.js";
  }
  const dependencies: Record<string, string> = {};
  for (const pkg of GRANARY_PACKAGES.filter((p) => p !== "testing")) {
    dependencies[`@granary/${pkg}`] = granaryDependency(options, pkg);
  }
  const manifest = {
    name: options.name,
    version: "0.1.0",
    private: true,
    type: "module",
    engines: { node: ">=20" },
    scripts,
    dependencies,
    devDependencies: {
      "@granary/testing": granaryDependency(options, "testing"),
      "@types/node": "^20.19.0",
      typescript: "~5.9.3",
      vitest: "^4.0.0",
    },
    pnpm: { onlyBuiltDependencies: ["better-sqlite3", "msgpackr-extract", "esbuild"] },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function tsconfigJson(): string {
  const config = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2023"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      types: ["node"],
      rootDir: "src",
      outDir: "dist",
    },
    include: ["src"],
    exclude: ["src/**/*.test.ts"],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function gitignore(): string {
  return "node_modules/\ndist/\n.granary/\n";
}
