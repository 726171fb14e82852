import { relative } from "node:path";
import type { TestSpecification } from "vitest/node";
import { BaseSequencer } from "vitest/node";

/**
 * Multi-process files (clusters, crash tests, the benchmark smoke run) take 5–50 s each, unit files
 * well under one. On a clean clone vitest has no timings cached and keeps the glob order, so a long
 * file that starts last leaves the other worker idle at the end: start the long ones first. With a
 * cache (a developer's machine) vitest's own order, longest first, already does this.
 */
const SLOW_FIRST = [/^bench\/src\/smoke/, /^test\/cluster\//, /^test\/integration\//, /^test\/history\//];

function rank(spec: TestSpecification): number {
  const path = relative(spec.project.config.root, spec.moduleId).replaceAll("\\", "/");
  const index = SLOW_FIRST.findIndex((pattern) => pattern.test(path));
  return index === -1 ? SLOW_FIRST.length : index;
}

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // A stable sort: within a rank, vitest's own order (cached durations when it has them) stays.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
