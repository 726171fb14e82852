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

/** What one reference calls: kept under a symbol so it can never clash with an actor's method names. */
interface RefState extends RouteSlot {
  readonly invoker: CallInvoker;
  readonly actorType: string;
  readonly id: string;
  readonly options: CallOptions;
  readonly parent: (() => CallContext | undefined) | undefined;
  readonly timeoutMs: number;
}

// Shared by references made without options: one object less to allocate, keep and load per reference.
const NO_OPTIONS: CallOptions = Object.freeze({});

const STATE: unique symbol = Symbol("granary.ref");
type Ref = { readonly [STATE]: RefState };

function invokeRef(ref: Ref, method: string, args: unknown[]): Promise<unknown> {
  const state = ref[STATE];
  // Checked before the call goes anywhere, so a Map argument fails the same way locally and remotely.
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === "number" || typeof arg === "boolean") continue; // nothing to walk
    try {
      assertWireData(arg, `argument ${i} of ${state.actorType}.${method}`);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return state.invoker.invoke({
    actorType: state.actorType,
    actorId: state.id,
    method,
    args,
    context: childContext(state.parent?.(), state.options),
    timeoutMs: state.timeoutMs,
    idempotencyKey: state.options.idempotencyKey,
    route: state,
  });
}

/**
 * The end of every reference's prototype chain: a name the class does not declare (reachable only
 * by bypassing the types, or when only a type name is known) still becomes a call, which the silo
 * answers with UNKNOWN_METHOD. Never thenable: `await silo.get(...)` must not treat it as a promise.
 */
const fallback: object = new Proxy(Object.create(null) as object, {
  get(_target, property, receiver: Ref) {
    if (typeof property !== "string" || property === "then") return undefined;
    return (...args: unknown[]) => invokeRef(receiver, property, args);
  },
});

/** One prototype per actor class, its public methods as plain functions: call sites stay monomorphic. */
const prototypes = new WeakMap<object, object>();

function prototypeFor(cls: ActorClass | undefined): object {
  if (!cls) return fallback;
  let proto = prototypes.get(cls);
  if (!proto) {
    proto = Object.create(fallback) as object;
    for (const name of publicMethodsOf(cls)) {
      Object.defineProperty(proto, name, {
        value: function (this: Ref, ...args: unknown[]) {
          return invokeRef(this, name, args);
        },
      });
    }
    prototypes.set(cls, proto);
  }
  return proto;
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
  const ref = Object.create(prototypeFor(typeof type === "string" ? undefined : type)) as Ref;
  const state: RefState = { invoker, actorType, id, options, parent, timeoutMs, target: undefined };
  Object.defineProperty(ref, STATE, { value: state });
  return Object.freeze(ref) as unknown as ActorRef<T>;
}
