import { Actor } from "@granary/core";

/** What `forget` answers: the subject and when its key was destroyed (the first time, if forgotten before). */
export interface ForgetResult {
  readonly subject: string;
  readonly destroyedAt: string;
}

/** Reserved (the `$granary.` prefix of system calls): answered by the receiving silo. */
export const DATA_SUBJECT_TYPE = "$granary.subject";

/**
 * The address of a data subject in the cluster, so a client can ask any silo to forget one:
 * `client.get(DataSubject, "cust-7").forget()` (or `client.forget("cust-7")`). It is never
 * activated: the silo that receives the call runs `Silo.forget` itself.
 */
export class DataSubject extends Actor {
  static readonly type = DATA_SUBJECT_TYPE;

  /** Destroys the subject's key: see `Silo.forget`. */
  async forget(): Promise<ForgetResult> {
    throw new Error("DataSubject calls are answered by the silo, never by an activation");
  }
}
