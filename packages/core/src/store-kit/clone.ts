/**
 * Deep copy of plain data (objects, arrays, primitives): what event and snapshot payloads are.
 * Several times faster than structuredClone for the small objects events usually are; other
 * values (a Date in data that bypassed `raise`) are kept by reference.
 */
export function clonePlain<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(clonePlain) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = clonePlain((value as Record<string, unknown>)[key]);
  return copy as T;
}
