import {
  type ActorClass,
  type EventSourcedActorClass,
  InvalidConfigurationError,
  type JsonObject,
  type PersonalDataDeclaration,
} from "@granary/core";

/** One event type's personal fields, as the runtime applies them. */
export interface FieldRule {
  readonly subject: (event: { readonly type: string } & JsonObject) => unknown;
  readonly fields: readonly string[];
}

/**
 * The personal-data declarations of a silo's actor classes, checked once at start: actor type →
 * event type → rule. Streams are `<actor type>/<id>`, so a stream name finds its rules.
 */
export class PersonalDataRules {
  readonly #byActorType = new Map<string, ReadonlyMap<string, FieldRule>>();

  constructor(actors: readonly ActorClass[]) {
    for (const cls of actors) {
      const declaration = (cls as EventSourcedActorClass).personalData;
      if (declaration === undefined) continue;
      this.#byActorType.set(cls.type, compile(cls, declaration));
    }
  }

  /** True when at least one actor class declares personal data. */
  get any(): boolean {
    return this.#byActorType.size > 0;
  }

  /** Whether the actor type declares personal data. */
  declares(actorType: string): boolean {
    return this.#byActorType.has(actorType);
  }

  /** The rules for the actor type a stream belongs to, if it declares personal data. */
  forStream(stream: string): ReadonlyMap<string, FieldRule> | undefined {
    const slash = stream.indexOf("/");
    return slash < 0 ? undefined : this.#byActorType.get(stream.slice(0, slash));
  }
}

function compile(cls: ActorClass, declaration: PersonalDataDeclaration): ReadonlyMap<string, FieldRule> {
  const problem = (what: string): InvalidConfigurationError =>
    new InvalidConfigurationError(
      `${cls.name}.personalData`,
      `${what}; declare it as { EventType: { subject: (e) => e.customerId, fields: ["name", "email"] } }`,
    );
  if (typeof declaration !== "object" || declaration === null || Array.isArray(declaration)) {
    throw problem("expected an object keyed by event type");
  }
  const rules = new Map<string, FieldRule>();
  for (const [eventType, rule] of Object.entries(declaration)) {
    if (rule === undefined) continue;
    if (typeof rule !== "object" || rule === null || typeof rule.subject !== "function") {
      throw problem(`"${eventType}" needs a subject function`);
    }
    const fields = rule.fields;
    if (!Array.isArray(fields) || fields.length === 0 || !fields.every((f) => typeof f === "string" && f !== "")) {
      throw problem(`"${eventType}".fields must be a non-empty array of field names`);
    }
    if (fields.includes("type")) throw problem(`"${eventType}".fields may not include "type" (it names the event)`);
    if (new Set(fields).size !== fields.length) throw problem(`"${eventType}".fields lists a field twice`);
    rules.set(eventType, { subject: rule.subject as FieldRule["subject"], fields: [...fields] });
  }
  return rules;
}
