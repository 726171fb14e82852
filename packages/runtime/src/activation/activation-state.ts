/** The life of one activation of an actor on one silo. */
export type ActivationState =
  /** Registering in the directory, rebuilding state and running onActivate; calls wait in the mailbox. */
  | "activating"
  /** Serving turns, one at a time (plus reentrant calls of a chain it is part of). */
  | "active"
  /** Finishing its current turns, then onDeactivate, final snapshot, unregister; new calls go to a successor. */
  | "deactivating"
  /** Gone; a new activation serves the actor's next call. */
  | "deactivated"
  /** Activation failed (corrupt history, onActivate threw); the waiting calls got the error. */
  | "failed";
