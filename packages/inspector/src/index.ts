/**
 * @granary/inspector — the browser inspector: silos, activations, an actor's state, and an event
 * timeline with a slider that rebuilds the state at any version. Served by a silo
 * (`Silo.start({ inspector: { port } })`) or by `granary inspect`.
 *
 * @example
 * import { startInspector } from "@granary/inspector";
 * const inspector = await startInspector(source, { port: 8080 }); // 127.0.0.1 unless `host` is set
 */

export {
  InspectorOptionError,
  type InspectorOptions,
  type ResolvedInspectorOptions,
  resolveInspectorOptions,
} from "./inspector-options.js";
export type { InspectorSource } from "./inspector-source.js";
export { type Inspector, startInspector } from "./start-inspector.js";
