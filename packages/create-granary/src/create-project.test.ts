import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createProject, projectFiles } from "./create-project.js";
import { CreateProjectError, resolveProjectOptions } from "./project-options.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "create-granary-unit-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("create-granary - project files", () => {
  it("a plain project has the actor, its test, dev and silo programs, and no cluster files", () => {
    const files = projectFiles(resolveProjectOptions("my-app", {}));
    expect([...files.keys()].sort()).toEqual(
      [
        ".gitignore",
        "README.md",
        "package.json",
        "src/account.test.ts",
        "src/account.ts",
        "src/dev.ts",
        "src/silo.ts",
        "tsconfig.json",
      ].sort(),
    );
    const manifest = JSON.parse(files.get("package.json") ?? "{}");
    expect(manifest.name).toBe("my-app");
    expect(manifest.dependencies["@granary/runtime"]).toBe("^0.1.0");
    expect(manifest.scripts.dev).toContain("dist/dev.js");
  });

  it("--cluster adds the client and a Redis start script, and the scripts that run them", () => {
    const files = projectFiles(resolveProjectOptions("my-app", { cluster: true }));
    expect(files.has("src/client.ts")).toBe(true);
    expect(files.get("scripts/redis.sh")).toContain("--appendonly yes");
    expect(JSON.parse(files.get("package.json") ?? "{}").scripts.redis).toBe("bash scripts/redis.sh");
  });

  it("--granary-workspace links the packages of a checkout instead of a registry version", () => {
    const manifest = JSON.parse(
      projectFiles(resolveProjectOptions("x", { granaryWorkspace: "/src/granary" })).get("package.json") ?? "{}",
    );
    expect(manifest.dependencies["@granary/core"]).toBe("link:/src/granary/packages/core");
    expect(manifest.devDependencies["@granary/testing"]).toBe("link:/src/granary/packages/testing");
  });
});

describe("create-granary - options and target", () => {
  it("refuses a folder name that is not a package name, and says to pass --name", () => {
    expect(() => resolveProjectOptions("My App!", {})).toThrow(CreateProjectError);
    expect(() => resolveProjectOptions("My App!", {})).toThrow(/--name/);
    expect(resolveProjectOptions("My App!", { name: "my-app" }).name).toBe("my-app");
  });

  it("refuses both a version and a workspace", () => {
    expect(() => resolveProjectOptions("a", { granaryVersion: "1", granaryWorkspace: "/x" })).toThrow(/not both/);
  });

  it("never writes into a folder that has files, and writes an executable Redis script", () => {
    const occupied = tempDir();
    writeFileSync(join(occupied, "keep.txt"), "mine");
    expect(() => createProject(occupied, resolveProjectOptions("app", {}))).toThrow(/not empty/);
    expect(readFileSync(join(occupied, "keep.txt"), "utf8")).toBe("mine");

    const target = join(tempDir(), "app");
    mkdirSync(target);
    const { files } = createProject(target, resolveProjectOptions("app", { cluster: true }));
    expect(files).toContain("src/account.ts");
    expect(statSync(join(target, "scripts/redis.sh")).mode & 0o111).not.toBe(0);
  });
});
