import { type Actor, InvalidConfigurationError } from "@granary/core";

/**
 * The method name a reminder tick is called with. Not a JavaScript identifier, so no actor method
 * can be called this way by accident; `onReminder` itself is not callable through references.
 */
export const REMINDER_METHOD = "granary:onReminder";

/** The actor's onReminder, or a clear error naming the class when it has none. */
export function reminderHandler(instance: Actor, actorType: string): (...args: unknown[]) => Promise<unknown> {
  const handler = (instance as { onReminder?: (...args: unknown[]) => Promise<unknown> }).onReminder;
  if (typeof handler !== "function") {
    throw new InvalidConfigurationError(
      `${actorType}.onReminder`,
      `a reminder fired for ${actorType}, which has no onReminder(name, tick) method; add one or cancel the reminder`,
    );
  }
  return handler;
}
