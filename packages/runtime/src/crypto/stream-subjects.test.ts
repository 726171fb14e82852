import type { EventEnvelope } from "@granary/core";
import { describe, expect, it } from "vitest";
import { StreamSubjects } from "./stream-subjects.js";

/** Stored events of `stream` from `from` on; a subject seals the event's personal fields, or none does. */
function stored(stream: string, from: number, subjects: (string | undefined)[]): EventEnvelope[] {
  return subjects.map((subject, i) => ({
    id: `${stream}#${from + i}`,
    type: "Changed",
    stream,
    version: from + i,
    schemaVersion: 1,
    data:
      subject === undefined
        ? { plain: true }
        : { $pii: { v: 1, kid: subject, fields: ["name"], iv: "", ct: "", tag: "" } },
    metadata: { correlationId: "c", causationId: "c", commandId: "c" },
    timestamp: "2030-01-01T00:00:00.000Z",
  }));
}

describe("StreamSubjects", () => {
  it("stream subjects - appends from the first event on give the exact sorted subjects at each version", () => {
    const subjects = new StreamSubjects();
    subjects.saw("S/1", 1, stored("S/1", 1, ["b", undefined]));
    subjects.saw("S/1", 3, stored("S/1", 3, ["a"]));
    expect(subjects.at("S/1", 2)).toBeUndefined();
    expect(subjects.at("S/1", 3)).toEqual(["a", "b"]);
  });

  it("stream subjects - a snapshot's list then the events after it", () => {
    const subjects = new StreamSubjects();
    subjects.learn("S/1", 100, ["m-2", "m-1"]);
    expect(subjects.at("S/1", 100)).toEqual(["m-1", "m-2"]);
    subjects.saw("S/1", 101, stored("S/1", 101, ["m-3"]));
    expect(subjects.at("S/1", 101)).toEqual(["m-1", "m-2", "m-3"]);
    // An older snapshot teaches nothing new
    subjects.learn("S/1", 50, ["m-1"]);
    expect(subjects.at("S/1", 101)).toEqual(["m-1", "m-2", "m-3"]);
  });

  it("stream subjects - a gap (events this silo never saw) forgets the stream", () => {
    const subjects = new StreamSubjects();
    subjects.saw("S/1", 1, stored("S/1", 1, ["a"]));
    subjects.saw("S/1", 5, stored("S/1", 5, ["b"]));
    expect(subjects.at("S/1", 1)).toBeUndefined();
    expect(subjects.at("S/1", 5)).toBeUndefined();
    // Appends that start mid-stream are not enough on their own either
    subjects.saw("S/2", 7, stored("S/2", 7, ["a"]));
    expect(subjects.at("S/2", 7)).toBeUndefined();
  });

  it("stream subjects - events seen again (a re-read, an idempotent re-send) change nothing", () => {
    const subjects = new StreamSubjects();
    subjects.saw("S/1", 1, stored("S/1", 1, ["a", "b"]));
    subjects.saw("S/1", 1, stored("S/1", 1, ["a", "b", "c"]));
    expect(subjects.at("S/1", 3)).toEqual(["a", "b", "c"]);
    subjects.forget("S/1");
    expect(subjects.at("S/1", 3)).toBeUndefined();
  });
});
