/** Who owns an activation of an actor, and with which fencing epoch. */
export interface DirectoryEntry {
  /** `<type>/<id>`, the same key as the actor's stream name. */
  readonly actorKey: string;
  readonly siloId: string;
  /** Unique per activation; distinguishes a re-activation on the same silo. */
  readonly activationId: string;
  /**
   * Fencing token: strictly greater than every epoch issued before for this actor. Every append of
   * the activation carries it, so stores reject writes of superseded activations.
   */
  readonly epoch: number;
}

/**
 * The actor directory: actor → owning activation. Invariants:
 * - `register` never overwrites a live owner: it registers only if the actor is absent or its
 *   owner is no longer a live member, and returns the winner (which may be someone else).
 * - Every successful registration issues a new, larger epoch.
 * - `unregister` removes the entry only if the given activation still owns it.
 */
export interface Directory {
  register(actorKey: string, siloId: string, activationId: string): Promise<DirectoryEntry>;
  lookup(actorKey: string): Promise<DirectoryEntry | undefined>;
  unregister(actorKey: string, activationId: string): Promise<boolean>;
  /** Removes every entry owned by a dead silo; returns how many. */
  removeSilo(siloId: string): Promise<number>;
  close(): Promise<void>;
}
