import { describe, expect, it } from "vitest";
import { createDefaultLogger, resolveLogFormat } from "./logger.js";

describe("default logger", () => {
  it("is pretty on a terminal and JSON on a pipe, unless GRANARY_LOG_FORMAT says otherwise", () => {
    expect(resolveLogFormat({}, true)).toBe("pretty");
    expect(resolveLogFormat({}, false)).toBe("json");
    expect(resolveLogFormat({ GRANARY_LOG_FORMAT: "json" }, true)).toBe("json");
    expect(resolveLogFormat({ GRANARY_LOG_FORMAT: "pretty" }, false)).toBe("pretty");
  });

  it("refuses an unknown GRANARY_LOG_FORMAT, naming the choices", () => {
    expect(() => resolveLogFormat({ GRANARY_LOG_FORMAT: "yaml" }, true)).toThrow(/json, pretty.*"yaml"/);
  });

  it("keeps the level in both formats", () => {
    expect(createDefaultLogger("warn", "json").level).toBe("warn");
    expect(createDefaultLogger("debug", "pretty").level).toBe("debug");
  });
});
