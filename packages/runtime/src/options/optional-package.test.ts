import { ErrorCode } from "@granary/core";
import { describe, expect, it } from "vitest";
import { loadOptionalPackage } from "./optional-package.js";

describe("optional packages", () => {
  it("a missing optional package is an InvalidConfigurationError naming the option, the package and the alternative", async () => {
    const missing = "@granary/not-installed-anywhere";

    const error = await loadOptionalPackage(() => import(missing), missing, "store", "pass `store`").catch((e) => e);

    expect(error.code).toBe(ErrorCode.InvalidConfiguration);
    expect(error.message).toContain("`store`");
    expect(error.message).toContain(`npm install ${missing}`);
    expect(error.message).toContain("pass `store`");
  });

  it("an installed one loads, and other failures pass through unchanged", async () => {
    const core = await loadOptionalPackage(() => import("@granary/core"), "@granary/core", "x", "y");
    expect(typeof core.Upcasters).toBe("function");

    const broken = new Error("boom inside the package");
    await expect(loadOptionalPackage(() => Promise.reject(broken), "@granary/x", "x", "y")).rejects.toBe(broken);
  });
});
