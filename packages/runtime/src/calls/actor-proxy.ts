import {
  type Actor,
  type ActorClass,
  type ActorRef,
  assertActorIdentity,
  assertCallMetadata,
  assertWireData,
  type CallOptions,
  InvalidArgumentError,
} from "@granary/core";
import { publicMethodsOf } from "../activation/actor-type-info.js";
import { type CallContext, type CallRequest, childContext, type RouteSlot } from "./call-context.js";
import { assertCallTimeout } from "./call-timeout.js";
import { checkIdempotencyKey } from "./idempotency.js";

/** Whatever can execute a call: a silo's dispatcher or a client's gateway connection. */
export interface CallInvoker {
  invoke(request: CallRequest): Promise<unknown>;
  readonly defaultTimeoutMs: number;
}

// Shared by references made without options: one object less to allocate, keep and load per reference.
const NO_OPTIONS: CallOptions = Object.freeze({});

/**
 * The end of every reference's prototype chain: a name the class does not declare (reachable only
 * by bypassing the types, or when only a type name is known) still becomes a call, which the silo
 * answers with UNKNOWN_METHOD. Never thenable: `await silo.get(...)` must not treat it as a promise.
 */
const fallback: object = new Proxy(Object.create(null) as object, {
  get(_target, property, receiver: Reference) {
    if (typeof property !== "string" || property === "then") return undefined;
    return (...args: unknown[]) => invokeRef(receiver, property, args);
  },
});

let invokeRef: (ref: Reference, method: string, args: unknown[]) => Promise<unknown>;
let routeTarget: (route: RouteSlot) => object | undefined;
let rememberRoute: (route: RouteSlot, target: object) => void;

/**
 * A reference's state lives in private fields of the reference itself: one object per reference
 * (a call loads it, and nothing else, before it reaches the silo), frozen for everyone, while the
 * route memo (see RouteSlot) stays writable for the catalog, since private fields are not properties.
 */
class Reference implements RouteSlot {
  declare readonly routeSlot: true;
  readonly #invoker: CallInvoker;
  readonly #actorType: string;
  readonly #id: string;
  readonly #options: CallOptions;
  readonly #parent: (() => CallContext | undefined) | undefined;
  readonly #timeoutMs: number;
  #target: object | undefined;

  constructor(
    invoker: CallInvoker,
    actorType: string,
    id: string,
    options: CallOptions,
    parent: (() => CallContext | undefined) | undefined,
    timeoutMs: number,
  ) {
    this.#invoker = invoker;
    this.#actorType = actorType;
    this.#id = id;
    this.#options = options;
    this.#parent = parent;
    this.#timeoutMs = timeoutMs;
    Object.freeze(this);
  }

  static {
    invokeRef = (ref, method, args) => {
      // Checked before the call goes anywhere, so a Map argument fails the same way locally and remotely.
      for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (typeof arg === "number" || typeof arg === "boolean") continue; // nothing to walk
        try {
          assertWireData(arg, `argument ${i} of ${ref.#actorType}.${method}`);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      const options = ref.#options;
      return ref.#invoker.invoke({
        actorType: ref.#actorType,
        actorId: ref.#id,
        method,
        args,
        context: childContext(ref.#parent?.(), options),
        timeoutMs: ref.#timeoutMs,
        idempotencyKey: options.idempotencyKey,
        route: ref,
      });
    };
    routeTarget = (route) => (route as Reference).#target;
    rememberRoute = (route, target) => {
      (route as Reference).#target = target;
    };
  }
}
// Reference.prototype carries nothing callable: every name resolves on the class prototype or the fallback.
Reflect.deleteProperty(Reference.prototype, "constructor");
Object.setPrototypeOf(Reference.prototype, fallback);

/** The activation the reference's last call reached, as the catalog of its silo noted it (see RouteSlot). */
export function rememberedTarget(route: RouteSlot): object | undefined {
  return routeTarget(route);
}

/** Notes where the reference's calls go (only the catalog of the silo the reference belongs to does). */
export function rememberTarget(route: RouteSlot, target: object): void {
  rememberRoute(route, target);
}

type ReferenceClass = new (...args: ConstructorParameters<typeof Reference>) => Reference;

/** One subclass per actor class, its public methods as plain functions: call sites stay monomorphic. */
const classes = new WeakMap<object, ReferenceClass>();

function referenceClassFor(cls: ActorClass | undefined): ReferenceClass {
  if (!cls) return Reference;
  let sub = classes.get(cls);
  if (!sub) {
    sub = class extends Reference {};
    const proto = sub.prototype;
    Reflect.deleteProperty(proto, "constructor");
    for (const name of publicMethodsOf(cls)) {
      Object.defineProperty(proto, name, {
        value: function (this: Reference, ...args: unknown[]) {
          return invokeRef(this, name, args);
        },
      });
    }
    classes.set(cls, sub);
  }
  return sub;
}

/**
 * A typed reference whose methods send calls through `invoker`. `parent` gives the context of the
 * turn making the call (for references an actor gets with `this.get`), so the call continues that
 * chain; without it a call starts a new chain. References are frozen and cheap: the methods live on a
 * prototype shared by every reference to the same class.
 */
export function createActorRef<T extends Actor>(
  invoker: CallInvoker,
  type: ActorClass<T> | string,
  id: string,
  options: CallOptions = NO_OPTIONS,
  parent?: () => CallContext | undefined,
): ActorRef<T> {
  const actorType = typeof type === "string" ? type : type?.type;
  if (typeof actorType !== "string") {
    throw new InvalidArgumentError("get(type, id) needs an actor class with a static `type` (or a type name)");
  }
  assertActorIdentity(actorType, id);
  const timeoutMs = options.timeoutMs ?? invoker.defaultTimeoutMs;
  assertCallTimeout(timeoutMs);
  if (options.metadata !== undefined) assertCallMetadata(options.metadata);
  checkIdempotencyKey(options.idempotencyKey);
  const Class = referenceClassFor(typeof type === "string" ? undefined : type);
  return new Class(invoker, actorType, id, options, parent, timeoutMs) as unknown as ActorRef<T>;
}
