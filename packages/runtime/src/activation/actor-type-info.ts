import {
  Actor,
  type ActorClass,
  actorTypeViolation,
  EventSourcedActor,
  type EventSourcedActorClass,
  InvalidConfigurationError,
  UnknownActorTypeError,
  type Upcasters,
} from "@granary/core";

/** What the runtime knows about one registered actor class, computed once at silo start. */
export interface ActorTypeInfo {
  readonly type: string;
  readonly cls: ActorClass;
  readonly eventSourced: boolean;
  /** Public async methods callable through an ActorRef. */
  readonly methods: ReadonlySet<string>;
  /** Methods declared read-only: they may run together, never beside a state-changing turn. */
  readonly readOnly: ReadonlySet<string>;
  readonly snapshotEvery: number;
  readonly snapshotVersion: number;
  readonly upcasters: Upcasters | undefined;
}

/** Whether `method` is declared read-only (most classes declare none: then no set is probed). */
export function isReadOnly(info: ActorTypeInfo, method: string): boolean {
  return info.readOnly.size !== 0 && info.readOnly.has(method);
}

export const DEFAULT_SNAPSHOT_EVERY = 100;
export const DEFAULT_SNAPSHOT_VERSION = 1;

/** Base-class members that must never be callable remotely, even if a subclass overrides them. */
const NOT_CALLABLE = new Set([
  "constructor",
  "apply",
  "initialState",
  "toSnapshot",
  "fromSnapshot",
  "onActivate",
  "onDeactivate",
  "onReminder",
  "get",
  "raise",
]);

export class ActorTypeRegistry {
  readonly #types = new Map<string, ActorTypeInfo>();

  constructor(classes: readonly ActorClass[]) {
    for (const cls of classes) this.#register(cls);
  }

  get(type: string): ActorTypeInfo {
    const info = this.#types.get(type);
    if (!info) throw new UnknownActorTypeError(type, [...this.#types.keys()]);
    return info;
  }

  has(type: string): boolean {
    return this.#types.has(type);
  }

  get types(): readonly string[] {
    return [...this.#types.keys()];
  }

  #register(cls: ActorClass): void {
    if (typeof cls !== "function" || !(cls.prototype instanceof Actor)) {
      throw new InvalidConfigurationError(
        "actors",
        `${String(cls?.name ?? cls)} does not extend Actor or EventSourcedActor`,
      );
    }
    const type = cls.type;
    const typeProblem = actorTypeViolation(type);
    if (typeProblem) {
      throw new InvalidConfigurationError(
        "actors",
        `${cls.name} needs \`static readonly type = "${cls.name}"\`: a name that never changes (it is part of every stream name); its type ${typeProblem}`,
      );
    }
    const existing = this.#types.get(type);
    if (existing) {
      if (existing.cls === cls) return;
      throw new InvalidConfigurationError("actors", `${cls.name} and ${existing.cls.name} both use type "${type}"`);
    }
    const es = cls as EventSourcedActorClass;
    const eventSourced = cls.prototype instanceof EventSourcedActor;
    const snapshotEvery = es.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    const snapshotVersion = es.snapshotVersion ?? DEFAULT_SNAPSHOT_VERSION;
    if (!Number.isInteger(snapshotEvery) || snapshotEvery < 0) {
      throw new InvalidConfigurationError(
        `${cls.name}.snapshotEvery`,
        `must be an integer >= 0 (0 disables snapshots), got ${snapshotEvery}`,
      );
    }
    if (!Number.isInteger(snapshotVersion) || snapshotVersion < 1) {
      throw new InvalidConfigurationError(
        `${cls.name}.snapshotVersion`,
        `must be an integer >= 1, got ${snapshotVersion}`,
      );
    }
    const methods = publicMethodsOf(cls);
    const readOnly = new Set(cls.readOnly ?? []);
    for (const name of readOnly) {
      if (!methods.has(name)) {
        throw new InvalidConfigurationError(`${cls.name}.readOnly`, `"${name}" is not a public method of ${cls.name}`);
      }
    }
    this.#types.set(type, {
      type,
      cls,
      eventSourced,
      methods,
      readOnly,
      snapshotEvery,
      snapshotVersion,
      upcasters: es.upcasters,
    });
  }
}

/** Own and inherited prototype methods below the Granary base classes, except `_`-prefixed ones. */
export function publicMethodsOf(cls: ActorClass): Set<string> {
  const methods = new Set<string>();
  for (let proto = cls.prototype; proto && proto !== EventSourcedActor.prototype && proto !== Actor.prototype; ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (NOT_CALLABLE.has(name) || name.startsWith("_")) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (descriptor && typeof descriptor.value === "function") methods.add(name);
    }
    proto = Object.getPrototypeOf(proto);
  }
  return methods;
}
