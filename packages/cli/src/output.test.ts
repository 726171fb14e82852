import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { progressBar } from "./commands/read-side.js";
import { printRecord, printRows } from "./output.js";

function capture(json: boolean) {
  let text = "";
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { out: { json, stdout, stderr: stdout }, text: () => text };
}

describe("CLI output", () => {
  it("tables pad columns under upper-case headers, and show missing values as a dash", () => {
    const { out, text } = capture(false);
    printRows(
      out,
      [
        { a: "x", b: 10 },
        { a: "long", b: undefined },
      ],
      [
        ["name", (r) => r.a],
        ["n", (r) => r.b],
      ],
    );
    expect(text()).toBe("NAME  N\nx     10\nlong  —\n");
  });

  it("--json prints the rows themselves, and an empty table says so", () => {
    const json = capture(true);
    printRows(json.out, [{ a: 1 }], [["a", (r) => r.a]]);
    expect(JSON.parse(json.text())).toEqual([{ a: 1 }]);
    const empty = capture(false);
    printRows(empty.out, [], [["a", () => 1]], "nothing here");
    expect(empty.text()).toBe("nothing here\n");
  });

  it("records align their labels and indent nested JSON", () => {
    const { out, text } = capture(false);
    printRecord(out, { version: 2, state: { n: 1 } });
    expect(text()).toBe('version: 2\nstate:   {\n           "n": 1\n         }\n');
  });

  it("a rebuild's progress bar shows events done of the head", () => {
    expect(progressBar(700, 1000, 10)).toBe("[#######---] 70% 700/1000");
    expect(progressBar(0, 0)).toBe("—");
    expect(progressBar(5, 4, 4)).toBe("[####] 100% 5/4");
  });
});
