import { ErrorCode, Upcasters } from "@granary/core";
import { describe, expect, it } from "vitest";
import { resolveSqliteOptions, type SqliteEventStoreOptions } from "./sqlite-options.js";

describe("resolveSqliteOptions", () => {
  it("options - defaults are ./.granary/granary.db, namespace default, synchronous FULL, 5 s busy timeout, no upcasters", () => {
    expect(resolveSqliteOptions()).toEqual({
      path: "./.granary/granary.db",
      namespace: "default",
      synchronous: "FULL",
      busyTimeoutMs: 5_000,
      upcasters: undefined,
    });
  });

  it("options - given values are kept", () => {
    const upcasters = new Upcasters();

    const resolved = resolveSqliteOptions({
      path: "/tmp/x.db",
      namespace: "tenant-a",
      synchronous: "NORMAL",
      busyTimeoutMs: 0,
      upcasters,
    });

    expect(resolved).toEqual({
      path: "/tmp/x.db",
      namespace: "tenant-a",
      synchronous: "NORMAL",
      busyTimeoutMs: 0,
      upcasters,
    });
  });

  it.each([
    ["path", { path: "" }],
    ["path", { path: 42 }],
    ["namespace", { namespace: "" }],
    ["synchronous", { synchronous: "OFF" }],
    ["busyTimeoutMs", { busyTimeoutMs: -1 }],
    ["busyTimeoutMs", { busyTimeoutMs: 1.5 }],
    ["upcasters", { upcasters: {} }],
  ])("options - an invalid %s fails with InvalidConfigurationError naming the option", (option, options) => {
    let error: unknown;
    try {
      resolveSqliteOptions(options as unknown as SqliteEventStoreOptions);
    } catch (e) {
      error = e;
    }

    expect(error).toMatchObject({ code: ErrorCode.InvalidConfiguration, option });
    expect((error as Error).message).toContain(`\`${option}\``);
  });
});
