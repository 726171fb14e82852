import type { InspectorSource } from "@granary/inspector";
import type { SiloInfo } from "./admin-types.js";
import type { OperatorClient } from "./operator-client.js";

/**
 * The inspector's data, asked of the cluster through operator requests: live views silo by silo;
 * history, time travel, projections, reminders and purge from any silo that answers them.
 */
export function operatorInspectorSource(operator: OperatorClient): InspectorSource {
  const any = (op: string, args: Record<string, unknown>) => operator.any(op, args);
  return {
    async features() {
      const reports = await operator.silos();
      const ops = new Set(reports.flatMap((r) => ("info" in r ? (r.info as SiloInfo).operations : [])));
      return {
        history: ops.has("history"),
        stateAt: ops.has("stateAt"),
        projections: ops.has("projections"),
        reminders: ops.has("reminders"),
        purge: ops.has("purge"),
      };
    },
    silos: () => operator.silos(),
    activations: (query) => operator.activations(query),
    actor: (type, id) => operator.activation(type, id),
    history: (type, id, range) => any("history", { type, id, ...range }),
    stateAt: (type, id, version) => any("stateAt", { type, id, version }),
    projections: async () => (await any("projections", {})) as unknown[],
    reminders: async (type, id) => (await any("reminders", { type, id })) as unknown[],
    purge: (type, id, request) => any("purge", { type, id, ...request }),
  };
}
