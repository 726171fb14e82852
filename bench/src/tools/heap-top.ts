/**
 * `node bench/dist/tools/heap-top.js <file.heapsnapshot> [per] [count]`: heap self size grouped by
 * constructor (or node type), divided by `per` (e.g. the number of activations), largest first.
 * Take the snapshot with BENCH_HEAP_SNAPSHOT=<file> on the memory-per-activation scenario.
 */
import { readFileSync } from "node:fs";

interface HeapSnapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: string[];
      readonly node_types: [string[]];
      readonly edge_fields: string[];
      readonly edge_types: [string[]];
    };
  };
  readonly nodes: number[];
  readonly edges: number[];
  readonly strings: string[];
}

const [file, perArg, countArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: heap-top <file.heapsnapshot> [per] [count]");
  process.exit(2);
}
const heap = JSON.parse(readFileSync(file, "utf8")) as HeapSnapshot;
const fields = heap.snapshot.meta.node_fields;
const types = heap.snapshot.meta.node_types[0];
const width = fields.length;
const typeAt = fields.indexOf("type");
const nameAt = fields.indexOf("name");
const sizeAt = fields.indexOf("self_size");
const groups = new Map<string, { count: number; bytes: number }>();
for (let i = 0; i < heap.nodes.length; i += width) {
  const type = types[heap.nodes[i + typeAt] as number] ?? "?";
  const name = heap.strings[heap.nodes[i + nameAt] as number] ?? "?";
  const key = type === "object" || type === "closure" ? `${type} ${name}` : type;
  const group = groups.get(key) ?? { count: 0, bytes: 0 };
  group.count++;
  group.bytes += heap.nodes[i + sizeAt] as number;
  groups.set(key, group);
}
const per = Number(perArg ?? 1);

// Who holds the arrays: "<owner constructor>.<property>" of each edge to an array node.
const edgeWidth = heap.snapshot.meta.edge_fields.length;
const edgeTypes = heap.snapshot.meta.edge_types[0];
const edgeCountAt = fields.indexOf("edge_count");
const holders = new Map<string, { count: number; bytes: number }>();
let edge = 0;
for (let i = 0; i < heap.nodes.length; i += width) {
  const owner = heap.strings[heap.nodes[i + nameAt] as number] ?? "?";
  for (let e = 0; e < (heap.nodes[i + edgeCountAt] as number); e++, edge += edgeWidth) {
    const to = heap.edges[edge + 2] as number;
    if (types[heap.nodes[to + typeAt] as number] !== "array") continue;
    const kind = edgeTypes[heap.edges[edge] as number];
    const nameOrIndex = heap.edges[edge + 1] as number;
    const label = kind === "element" || kind === "hidden" ? `[${kind}]` : (heap.strings[nameOrIndex] ?? "?");
    const key = `${owner}.${label}`;
    const holder = holders.get(key) ?? { count: 0, bytes: 0 };
    holder.count++;
    holder.bytes += heap.nodes[to + sizeAt] as number;
    holders.set(key, holder);
  }
}
const top = [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(countArg ?? 30));
console.log(`bytes/${per === 1 ? "total" : "item"}  count/item  group`);
for (const [key, { count, bytes }] of top) {
  console.log(`${(bytes / per).toFixed(1).padStart(10)}  ${(count / per).toFixed(2).padStart(10)}  ${key}`);
}
console.log("arrays by holder:");
for (const [key, { count, bytes }] of [...holders.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12)) {
  console.log(`${(bytes / per).toFixed(1).padStart(10)}  ${(count / per).toFixed(2).padStart(10)}  ${key}`);
}
