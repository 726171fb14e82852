/**
 * Where the inspector gets its data: a silo serving its own cluster, or a client of a remote one.
 * Every answer is plain JSON. Optional members are features the source may not offer (the page
 * hides what is missing instead of failing).
 */
export interface InspectorSource {
  /** Which optional features this source answers now (the page hides the others). */
  features?(): Promise<Partial<Record<"history" | "stateAt" | "projections" | "reminders" | "purge", boolean>>>;
  /** Every silo, with its report or why it did not answer. */
  silos(): Promise<readonly unknown[]>;
  /** Live activations matching a search. */
  activations(query: { type?: string; idContains?: string; limit?: number }): Promise<readonly unknown[]>;
  /** The live activation of one actor with its state, or null. */
  actor(type: string, id: string): Promise<unknown>;
  /** Recorded events of one actor, oldest first, with metadata. */
  history?(
    type: string,
    id: string,
    range: { fromVersion?: number; toVersion?: number; limit?: number },
  ): Promise<unknown>;
  /** The actor's state as it was after `version`. */
  stateAt?(type: string, id: string, version: number): Promise<unknown>;
  /** Projections with their position, lag and rebuild progress. */
  projections?(): Promise<readonly unknown[]>;
  /** The actor's durable reminders. */
  reminders?(type: string, id: string): Promise<readonly unknown[]>;
  /** Purges one actor (right to be forgotten); the inspector asks for the cluster key first. */
  purge?(type: string, id: string, request: { reason: string; requestedBy: string }): Promise<unknown>;
}
