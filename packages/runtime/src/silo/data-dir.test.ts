import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Counter } from "../__fixtures__/actors.js";
import { Silo } from "./silo.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("dataDir", () => {
  it.each([
    ["is a file", (file: string) => file],
    ["is below a file", (file: string) => join(file, "sub")],
  ])(
    "a dataDir that %s fails at start with INVALID_CONFIGURATION naming the option, not a bare EEXIST",
    async (_, pick) => {
      const dir = mkdtempSync(join(tmpdir(), "granary-datadir-"));
      dirs.push(dir);
      const file = join(dir, "not-a-folder");
      writeFileSync(file, "x");
      const error = await Silo.start({
        actors: [Counter],
        dataDir: pick(file),
        logger: pino({ level: "silent" }),
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "INVALID_CONFIGURATION",
        data: { option: "dataDir" },
        message: expect.stringMatching(/is a file, not a folder; point dataDir \(GRANARY_DATA_DIR\) at a folder/),
      });
    },
  );
});
