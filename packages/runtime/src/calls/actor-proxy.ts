import { type Actor, type ActorClass, type ActorRef, type CallOptions, InvalidArgumentError } from "@granary/core";
import { type CallContext, type CallRequest, childContext } from "./call-context.js";

/** Whatever can execute a call: a silo's dispatcher or a client's gateway connection. */
export interface CallInvoker {
  invoke(request: CallRequest): Promise<unknown>;
  readonly defaultTimeoutMs: number;
}

/**
 * A typed reference whose methods send calls through `invoker`. Method functions are created once
 * per reference. `parent` gives the context of the turn making the call (for references an actor
 * gets with `this.get`), so the call continues that chain; without it a call starts a new chain.
 */
export function createActorRef<T extends Actor>(
  invoker: CallInvoker,
  type: ActorClass<T> | string,
  id: string,
  options: CallOptions = {},
  parent?: () => CallContext | undefined,
): ActorRef<T> {
  const actorType = typeof type === "string" ? type : type?.type;
  if (typeof actorType !== "string" || actorType === "") {
    throw new InvalidArgumentError("get(type, id) needs an actor class with a static `type` (or a type name)");
  }
  if (typeof id !== "string" || id === "") {
    throw new InvalidArgumentError(`get(${actorType}, id) needs a non-empty string id, got ${JSON.stringify(id)}`);
  }
  const timeoutMs = options.timeoutMs ?? invoker.defaultTimeoutMs;
  if (!(timeoutMs > 0)) throw new InvalidArgumentError(`timeoutMs must be > 0, got ${timeoutMs}`);
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const target = Object.create(null) as Record<string | symbol, unknown>;
  return new Proxy(target, {
    get(_target, property) {
      // Not thenable: `await silo.get(...)` must not treat the reference as a promise.
      if (typeof property !== "string" || property === "then") return undefined;
      let method = methods.get(property);
      if (!method) {
        method = (...args: unknown[]) =>
          invoker.invoke({
            actorType,
            actorId: id,
            method: property,
            args,
            context: childContext(parent?.(), options),
            timeoutMs,
          });
        methods.set(property, method);
      }
      return method;
    },
    set() {
      throw new InvalidArgumentError("an actor reference is read-only");
    },
  }) as ActorRef<T>;
}
