import type { DomainEvent } from "../events/envelope.js";

/**
 * What a personal field reads as once its data subject was forgotten (`silo.forget(subject)`): the
 * key that encrypted it is destroyed, so the value is gone for good. It replaces only the declared
 * fields; the event's other fields, type, version and metadata stay as they were.
 *
 * @example
 * { "$redacted": "forgotten", "subject": "cust-7" }
 */
export interface Redacted {
  readonly $redacted: "forgotten";
  /** The data subject whose key was destroyed. */
  readonly subject: string;
}

/**
 * A personal field's type as `apply` and readers of history see it: the value, or {@link Redacted}
 * after its subject was forgotten. Declare personal fields with it so the compiler makes `apply`
 * handle the redacted case.
 *
 * @example
 * type CustomerEvent = { type: "Registered"; customerId: string; name: Personal<string> };
 */
export type Personal<T> = T | Redacted;

/** The marker for a field of `subject` whose key was destroyed. */
export function redacted(subject: string): Redacted {
  return { $redacted: "forgotten", subject };
}

/** True when `value` is the redaction marker of a forgotten subject's field. */
export function isRedacted(value: unknown): value is Redacted {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { $redacted?: unknown }).$redacted === "forgotten" &&
    typeof (value as { subject?: unknown }).subject === "string"
  );
}

type EventOfType<E extends DomainEvent, K extends E["type"]> = Extract<E, { readonly type: K }>;

/** Personal fields of one event type and whose they are. */
export interface PersonalDataRule<E extends DomainEvent> {
  /**
   * The data subject the fields belong to, from the event as raised (e.g. `(e) => e.customerId`).
   * An opaque id, not itself personal data: it is stored in plain text as the key id.
   */
  readonly subject: (event: E) => string;
  /** Top-level payload fields encrypted under the subject's key (any JSON value; absent fields are skipped). */
  readonly fields: readonly Exclude<keyof E & string, "type">[];
}

/**
 * An actor class's declaration of which event fields are personal data and whose, typed against
 * its event union: every key is an event type, every field a field of that event type.
 *
 * @example
 * class Customer extends EventSourcedActor<CustomerState, CustomerEvent> {
 *   static readonly type = "Customer";
 *   static readonly personalData: PersonalData<CustomerEvent> = {
 *     Registered: { subject: (e) => e.customerId, fields: ["name", "email"] },
 *     EmailChanged: { subject: (e) => e.customerId, fields: ["email"] },
 *   };
 * }
 */
export type PersonalData<E extends DomainEvent> = {
  readonly [K in E["type"]]?: PersonalDataRule<EventOfType<E, K>>;
};

/** The untyped form the runtime reads from `static personalData`. */
export type PersonalDataDeclaration = Readonly<
  Record<string, { readonly subject: (event: never) => string; readonly fields: readonly string[] } | undefined>
>;
